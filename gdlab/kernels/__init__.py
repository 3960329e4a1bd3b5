"""Infinite-width kernels of fully connected networks and kernel gradient-descent dynamics.

- `mlp_kernels`: NNGP and NTK with neural-tangents' ``stax`` conventions (closed forms for
  relu, erf, identity; Gauss-Hermite quadrature for any other elementwise activation).
- `gd_predict`, `max_learning_rate`: the mean prediction of GD / gradient flow on
  `gdlab.train.mse` in the kernel (linearized) regime, on train and test points.
"""

from gdlab.kernels._activations import GH_NODES as GH_NODES
from gdlab.kernels._gd import GDPrediction as GDPrediction
from gdlab.kernels._gd import gd_predict as gd_predict
from gdlab.kernels._gd import max_learning_rate as max_learning_rate
from gdlab.kernels._mlp import Kernels as Kernels
from gdlab.kernels._mlp import mlp_kernels as mlp_kernels

__all__ = ["GH_NODES", "GDPrediction", "Kernels", "gd_predict", "max_learning_rate", "mlp_kernels"]

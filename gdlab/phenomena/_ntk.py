"""What the NTK claims share: their network, its analytic kernel, their widths and their fit.

`ntk-init-convergence`, `ntk-lazy-training`, `linearized-dynamics` and `kernel-eigen-rates`
all study a ReLU MLP in NTK parametrization (gdlab's ``MLP(parametrization="ntk")``,
neural-tangents' ``stax.Dense`` convention) in float64, against the analytic infinite-width
NTK of the same architecture (`gdlab.kernels.mlp_kernels`), and the first three fit a power
law against width.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from gdlab.kernels import mlp_kernels
from gdlab.models import MLP


def check_widths(widths: Sequence[int]) -> None:
    """Raise `ValueError` unless ``widths`` are at least two strictly increasing positive integers."""
    if len(widths) < 2 or min(widths) < 1 or list(widths) != sorted(set(widths)):
        raise ValueError("widths must be at least two strictly increasing positive integers")


def relu_ntk_mlp(
    in_dim: int,
    width: int,
    hidden_layers: int,
    *,
    w_std: float,
    b_std: float,
    generator: torch.Generator,
    device: torch.device,
) -> MLP:
    """``in_dim → width (× hidden_layers) → 1`` ReLU MLP in NTK parametrization, float64.

    The initialization draws from ``generator`` (on the CPU), then the net moves to ``device``.
    """
    net = MLP(
        in_dim, (width,) * hidden_layers, 1, activation="relu", parametrization="ntk",
        w_std=w_std, b_std=b_std, generator=generator,
    )
    return net.double().to(device)


def relu_ntk(x: torch.Tensor, hidden_layers: int, *, w_std: float, b_std: float) -> torch.Tensor:
    """The analytic infinite-width NTK ``(n, n)`` of `relu_ntk_mlp` on the rows of ``x: (n, d)``."""
    return mlp_kernels(x, hidden_layers=hidden_layers, activation="relu", w_std=w_std, b_std=b_std).ntk


def loglog_slope(widths, values) -> tuple[float, float]:
    """Least-squares ``(slope, intercept)`` of ``log value`` against ``log width``.

    Example:
        >>> slope, icpt = loglog_slope([64, 256, 1024], [3 * w**-0.5 for w in (64, 256, 1024)])
        >>> round(slope, 6), round(float(np.exp(icpt)), 6)
        (-0.5, 3.0)
    """
    slope, intercept = np.polyfit(
        np.log(np.asarray(widths, float)), np.log(np.asarray(values, float)), 1
    )
    return float(slope), float(intercept)

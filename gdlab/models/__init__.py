"""Models: MLPs with switchable parametrization, deep linear nets, attention, features."""

from gdlab.models.attention import LinearSelfAttention as LinearSelfAttention
from gdlab.models.layers import ACTIVATIONS as ACTIVATIONS
from gdlab.models.layers import ScaledLinear as ScaledLinear
from gdlab.models.layers import activation_fn as activation_fn
from gdlab.models.mlp import MLP as MLP
from gdlab.models.mlp import deep_linear as deep_linear
from gdlab.models.mlp import lr_scales as lr_scales
from gdlab.models.parametrization import PARAMETRIZATIONS as PARAMETRIZATIONS
from gdlab.models.parametrization import LayerScaling as LayerScaling
from gdlab.models.parametrization import layer_scaling as layer_scaling
from gdlab.models.tversky import TverskyProjection as TverskyProjection

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "PARAMETRIZATIONS",
    "LayerScaling",
    "LinearSelfAttention",
    "ScaledLinear",
    "TverskyProjection",
    "activation_fn",
    "deep_linear",
    "layer_scaling",
    "lr_scales",
]

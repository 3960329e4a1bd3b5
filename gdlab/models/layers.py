"""Dense layers with explicit multipliers, the building block of every gdlab MLP."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "erf": torch.erf,
    "gelu": F.gelu,
    "sigmoid": torch.sigmoid,
    "softplus": F.softplus,
    "sin": torch.sin,
    "identity": lambda x: x,
}


def activation_fn(name: str):
    """The elementwise function called ``name`` (see `ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; use one of {sorted(ACTIVATIONS)}") from None


class ScaledLinear(nn.Module):
    """``y = multiplier · x wᵀ + b_multiplier · b`` with ``w: (out, in)``, ``b: (out,)``.

    The multipliers are fixed numbers, not parameters: they carry the width scaling of a
    parametrization (see `gdlab.models.parametrization`). With ``multiplier = 1`` this is
    ``nn.Linear``. ``lr_scale`` (weight) and ``b_lr_scale`` (bias; ``None`` = ``lr_scale``) are
    read by `gdlab.models.lr_scales` through `param_lr_scales`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        multiplier: float = 1.0,
        init_std: float = 1.0,
        b_multiplier: float = 1.0,
        b_init_std: float = 0.0,
        lr_scale: float = 1.0,
        b_lr_scale: float | None = None,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.multiplier, self.b_multiplier, self.lr_scale = multiplier, b_multiplier, lr_scale
        self.b_lr_scale = lr_scale if b_lr_scale is None else b_lr_scale
        w = torch.randn(out_features, in_features, generator=generator) * init_std
        self.weight = nn.Parameter(w)
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features, generator=generator) * b_init_std)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        y = F.linear(x, self.weight)
        if self.multiplier != 1.0:  # skip a no-op multiply (SP layers)
            y = y * self.multiplier
        if self.bias is not None:
            y = y + self.b_multiplier * self.bias
        return y

    def param_lr_scales(self) -> dict[str, float]:
        """Learning-rate multipliers of this layer's own parameters, by parameter name."""
        scales = {"weight": float(self.lr_scale)}
        if self.bias is not None:
            scales["bias"] = float(self.b_lr_scale)
        return scales

    def extra_repr(self) -> str:
        return (f"in={self.in_features}, out={self.out_features}, bias={self.bias is not None}, "
                f"multiplier={self.multiplier:.4g}, lr_scale={self.lr_scale:.4g}")

"""Fully connected networks with a switchable parametrization (SP, NTK, μP, mean-field)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gdlab.models.layers import ScaledLinear, activation_fn
from gdlab.models.parametrization import layer_scaling


class MLP(nn.Module):
    """``f(x) = out_scale · W_{L+1} φ(W_L … φ(W_1 x))`` with per-layer width scalings.

    Args:
        in_dim: input dimension ``d``.
        widths: hidden widths, e.g. ``(512, 512)``; ``()`` gives a linear model.
        out_dim: number of outputs.
        activation: name in `gdlab.models.layers.ACTIVATIONS`.
        parametrization: ``sp | ntk | mup | mean_field`` (see `gdlab.models.parametrization`).
        w_std, b_std: the weight and bias scales ``σ_w, σ_b`` of that table.
        bias: whether layers have biases.
        out_scale: multiplies the output (α of Chizat et al. 2019: large α is lazy).
        optimizer: ``sgd | adam``, selects the μP learning-rate scales.
        generator: RNG for the initialization.

    Shapes: ``x: (n, d) -> (n, out_dim)``.
    """

    def __init__(
        self,
        in_dim: int,
        widths: Sequence[int],
        out_dim: int = 1,
        *,
        activation: str = "relu",
        parametrization: str = "sp",
        w_std: float = 1.0,
        b_std: float = 0.0,
        bias: bool = True,
        out_scale: float = 1.0,
        optimizer: str = "sgd",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.activation_name = activation
        self.act = activation_fn(activation)
        self.parametrization = parametrization
        self.out_scale = out_scale
        dims = [in_dim, *widths, out_dim]
        width = max(widths) if widths else in_dim
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            role = "input" if i == 0 else ("output" if i == len(dims) - 2 else "hidden")
            if len(dims) == 2:
                role = "output"
            s = layer_scaling(parametrization, role, fan_in, width, w_std=w_std, b_std=b_std,
                              optimizer=optimizer)
            layers.append(ScaledLinear(
                fan_in, fan_out, bias=bias, multiplier=s.multiplier, init_std=s.init_std,
                b_multiplier=s.b_multiplier, b_init_std=s.b_init_std, lr_scale=s.lr_scale,
                generator=generator,
            ))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor, *, return_features: bool = False):
        """Output ``(n, out_dim)``; with ``return_features``, also the last hidden layer."""
        h = x
        for layer in self.layers[:-1]:
            h = self.act(layer(h))
        out = self.layers[-1](h)
        if self.out_scale != 1.0:
            out = self.out_scale * out
        return (out, h) if return_features else out

    def hidden(self, x: Tensor) -> list[Tensor]:
        """Post-activation features of every hidden layer, ``[(n, width_l)]``."""
        feats, h = [], x
        for layer in self.layers[:-1]:
            h = self.act(layer(h))
            feats.append(h)
        return feats


def lr_scales(module: nn.Module) -> dict[str, float]:
    """Per-parameter learning-rate multipliers from each layer's ``lr_scale`` (1 elsewhere)."""
    scales = {}
    for mod_name, mod in module.named_modules():
        s = getattr(mod, "lr_scale", 1.0)
        for p_name, _ in mod.named_parameters(recurse=False):
            scales[f"{mod_name}.{p_name}" if mod_name else p_name] = float(s)
    return scales


def deep_linear(dims: Sequence[int], *, init_std: float, generator: torch.Generator | None = None) -> MLP:
    """A deep linear network ``x ↦ W_L ⋯ W_1 x`` without biases, weights ``N(0, init_std²)``.

    ``dims = (d_in, h_1, …, d_out)``. Small ``init_std`` gives the saddle-to-saddle dynamics
    of Saxe et al. (2014).
    """
    net = MLP(dims[0], tuple(dims[1:-1]), dims[-1], activation="identity", parametrization="sp",
              bias=False, generator=generator)
    with torch.no_grad():
        for layer in net.layers:
            layer.weight.normal_(0.0, init_std, generator=generator)
    return net

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
        optimizer: ``sgd | adam``, selects the μP learning-rate scales (read them with
            `lr_scales` and apply them with `gdlab.optim.scale_by_param`).
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
        if any(int(w) < 1 for w in dims):
            raise ValueError(f"all dimensions must be >= 1, got in/widths/out {dims}")
        self.optimizer = optimizer
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            s = layer_scaling(parametrization, _role(i, len(dims) - 1), fan_in, fan_out,
                              w_std=w_std, b_std=b_std, optimizer=optimizer)
            layers.append(ScaledLinear(
                fan_in, fan_out, bias=bias, multiplier=s.multiplier, init_std=s.init_std,
                b_multiplier=s.b_multiplier, b_init_std=s.b_init_std, lr_scale=s.lr_scale,
                b_lr_scale=s.bias_lr_scale, generator=generator,
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


def _role(i: int, n_layers: int) -> str:
    """Role of layer ``i`` of ``n_layers``: the last reads out; a lone layer is a readout."""
    if i == n_layers - 1:
        return "output"
    return "input" if i == 0 else "hidden"


def lr_scales(module: nn.Module) -> dict[str, float]:
    """Per-parameter learning-rate multipliers, keyed like ``module.named_parameters()``.

    A submodule with a ``param_lr_scales()`` method (e.g. `ScaledLinear`: weight and bias
    separately) gives its own parameters' scales; otherwise its ``lr_scale`` attribute applies
    to all of its direct parameters; elsewhere the scale is 1. Use with
    `gdlab.optim.scale_by_param` to train with per-layer learning rates.
    """
    scales = {}
    for mod_name, mod in module.named_modules():
        own = mod.param_lr_scales() if hasattr(mod, "param_lr_scales") else {}
        s = getattr(mod, "lr_scale", 1.0)
        for p_name, _ in mod.named_parameters(recurse=False):
            key = f"{mod_name}.{p_name}" if mod_name else p_name
            scales[key] = float(own.get(p_name, s))
    return scales


def deep_linear(
    dims: Sequence[int], *, init_std: float, generator: torch.Generator | None = None
) -> MLP:
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

"""Coordinate check: how activation sizes scale with width, per layer and training step.

The numerical test of a parametrization (Yang et al. 2022, Tensor Programs V, §"coord
check"; the ``mup`` package's ``get_coord_data``). Train the same architecture at several
widths ``n`` for a few steps on the same batch and record, for every layer ``l`` and step
``t``, the typical coordinate size of the activations

.. math:: \\operatorname{rms}(h) = \\sqrt{\\tfrac{1}{B\\,n_l} \\sum_{b,i} h_{b,i}^2}

of ``h_t`` and of the change ``h_t − h_0``. Fitting ``log rms = slope · log n + c`` gives one
slope per layer and step. The theory's predictions for hidden layers after ``t ≥ 1`` steps
with a width-independent base learning rate:

=====================  ==============  ================
                       ``rms(h_t)``    ``rms(h_t − h_0)``
=====================  ==============  ================
μP, mean-field         0               0 (features move Θ(1))
NTK                    0               −½ (lazy: features move ∝ n^-1/2)
SP (fixed lr)          > 0 (blow-up)   > 0
=====================  ==============  ================

The network output in μP is Θ(n^-1/2) at init (slope −½ at ``t = 0``) and Θ(1) after.
The ``mup`` package reports the mean absolute value (``l1``); we use the root mean square,
whose scaling is the same for activations with i.i.d.-like coordinates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from gdlab.core import functionalize, load_params
from gdlab.optim import GradientTransformation
from gdlab.train import mse, train

ModelFactory = Callable[[int, torch.Generator], nn.Module]
Features = Callable[[nn.Module, Tensor], "list[Tensor]"]


@dataclass(frozen=True)
class CoordCheck:
    """Activation sizes against width, averaged over seeds.

    Attributes:
        widths: the widths ``n`` that were trained, ``(W,)``.
        steps: recorded steps ``0..T`` (0 is the initialization), ``(S,)``.
        layers: one name per recorded activation, ``(L,)``.
        size: ``rms(h_t)``, shape ``(W, S, L)``; NaN after a divergence.
        delta: ``rms(h_t − h_0)``, shape ``(W, S, L)`` (zero at step 0).
    """

    widths: tuple[int, ...]
    steps: tuple[int, ...]
    layers: tuple[str, ...]
    size: np.ndarray
    delta: np.ndarray

    def slopes(self, kind: str = "delta") -> np.ndarray:
        """Fitted log-log slope against width for every step and layer: ``(S, L)``.

        ``kind`` is ``"delta"`` (``h_t − h_0``) or ``"size"`` (``h_t``).
        """
        table = self._table(kind)
        out = np.full(table.shape[1:], np.nan)
        for s in range(table.shape[1]):
            for l in range(table.shape[2]):
                out[s, l] = fit_slope(self.widths, table[:, s, l])
        return out

    def slope(self, layer: str | int, step: int, kind: str = "delta") -> float:
        """Slope of one layer (name or index) at one recorded step."""
        li = self.layers.index(layer) if isinstance(layer, str) else int(layer)
        return float(self.slopes(kind)[self.steps.index(step), li])

    def _table(self, kind: str) -> np.ndarray:
        if kind not in ("delta", "size"):
            raise ValueError(f"kind must be 'delta' or 'size', got {kind!r}")
        return self.delta if kind == "delta" else self.size


def rms(h: Tensor) -> float:
    """Root-mean-square coordinate size ``‖h‖_F / √numel``."""
    return float(h.detach().double().pow(2).mean().sqrt())


def fit_slope(widths: Sequence[float], sizes: Sequence[float]) -> float:
    """Least-squares slope of ``log sizes`` against ``log widths``; NaN if any size is ≤ 0 or
    non-finite (a diverged or identically-zero series has no power law)."""
    w = np.log(np.asarray(widths, dtype=float))
    s = np.asarray(sizes, dtype=float)
    if len(w) != len(s) or len(w) < 2:
        raise ValueError(f"need >= 2 widths with one size each, got {len(w)} and {len(s)}")
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        return float("nan")
    return float(np.polyfit(w, np.log(s), 1)[0])


def mlp_features(module: nn.Module, x: Tensor) -> list[Tensor]:
    """Every hidden layer's post-activation and the output, for `gdlab.models.MLP`."""
    if not hasattr(module, "hidden"):
        raise ValueError(
            f"{type(module).__name__} has no .hidden(x); pass features=(module, x) -> [tensors]"
        )
    return [*module.hidden(x), module(x)]


def coord_check(
    make_model: ModelFactory,
    widths: Sequence[int],
    x: Tensor,
    y: Tensor,
    *,
    tx: Callable[[nn.Module], GradientTransformation],
    steps: int = 3,
    loss: Callable[[Tensor, Tensor], Tensor] = mse,
    seeds: Sequence[int] = (0,),
    features: Features = mlp_features,
    layer_names: Sequence[str] | None = None,
    x_eval: Tensor | None = None,
) -> CoordCheck:
    """Train each width for ``steps`` full-batch steps and record activation sizes.

    Args:
        make_model: ``make_model(width, generator) -> nn.Module``.
        widths: at least two widths.
        x, y: the training batch, ``(B, d)`` and targets for ``loss``.
        tx: ``tx(model) -> GradientTransformation``, so per-layer learning rates can be read
            from the model (``chain(sgd(lr), scale_by_param(lr_scales(model)))``).
        steps: number of updates ``T``; steps ``0..T`` are recorded.
        loss: ``loss(prediction, target)``; default ½-mean-squared error.
        seeds: initialization seeds; sizes are averaged over them.
        features: ``features(model, x) -> [h_1, …, h_L]``; default: MLP hidden layers and
            output.
        layer_names: names of those activations (default ``h1 … h{L−1}, out``).
        x_eval: inputs on which activations are measured (default ``x``).

    Returns:
        A `CoordCheck`; ``.slopes()`` gives the fitted exponents.

    Raises:
        ValueError: fewer than two widths, ``steps < 1``, or no seeds.
    """
    if len(widths) < 2:
        raise ValueError(f"need at least two widths to fit a slope, got {list(widths)}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if not seeds:
        raise ValueError("seeds must not be empty")
    x_eval = x if x_eval is None else x_eval
    runs = [[_one_run(make_model, int(w), seed, x, y, x_eval, tx, steps, loss, features)
             for seed in seeds] for w in widths]
    size = np.array([[r[0] for r in per_w] for per_w in runs]).mean(axis=1)  # (W, S, L)
    delta = np.array([[r[1] for r in per_w] for per_w in runs]).mean(axis=1)
    n_layers = size.shape[-1]
    names = tuple(layer_names) if layer_names is not None else (
        *(f"h{i + 1}" for i in range(n_layers - 1)), "out")
    if len(names) != n_layers:
        raise ValueError(f"layer_names has {len(names)} names for {n_layers} activations")
    return CoordCheck(tuple(int(w) for w in widths), tuple(range(steps + 1)), names, size, delta)


def _one_run(make_model, width, seed, x, y, x_eval, tx, steps, loss, features):
    """Sizes ``(S, L)`` of ``h_t`` and ``h_t − h_0`` for one width and seed."""
    g = torch.Generator().manual_seed(int(seed))
    model = make_model(width, g)
    f, params = functionalize(model)
    recorded: dict[int, list[Tensor]] = {}

    def probe(step: int, p) -> None:
        load_params(model, p)
        with torch.no_grad():
            recorded[step] = [h.detach().clone() for h in features(model, x_eval)]

    train(lambda p: loss(f(p, x), y), params, tx(model), steps, probes=[(1, probe)])
    h0 = recorded[0]
    size = np.full((steps + 1, len(h0)), np.nan)
    delta = np.full((steps + 1, len(h0)), np.nan)
    for t, hs in recorded.items():  # a diverged run leaves the later steps NaN
        size[t] = [rms(h) for h in hs]
        delta[t] = [rms(h - h_init) for h, h_init in zip(hs, h0, strict=True)]
    return size, delta


def coord_check_figure(result: CoordCheck, kind: str = "delta", *, title: str = ""):
    """One panel per layer: size against width (log-log), one line per step, slope in legend.

    ``kind="delta"`` plots ``rms(h_t − h_0)`` (steps ≥ 1), ``"size"`` plots ``rms(h_t)``.
    """
    import matplotlib.pyplot as plt

    table = result._table(kind)
    slopes = result.slopes(kind)
    n_layers = len(result.layers)
    fig, axes = plt.subplots(1, n_layers, figsize=(3.2 * n_layers, 3.2), squeeze=False)
    first = 1 if kind == "delta" else 0
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(result.steps)))
    for l, ax in enumerate(axes[0]):
        for s in range(first, len(result.steps)):
            ax.loglog(result.widths, table[:, s, l], "o-", color=colors[s], ms=3,
                      label=f"t={result.steps[s]}: slope {slopes[s, l]:+.2f}")
        ax.set(xlabel="width n", title=result.layers[l])
        ax.legend(fontsize=6)
    ylabel = "rms(h_t − h_0)" if kind == "delta" else "rms(h_t)"
    axes[0][0].set_ylabel(ylabel)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig

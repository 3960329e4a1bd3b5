"""In NTK parametrization hidden features freeze as width grows; in μP they keep moving.

Yang & Hu, "Feature Learning in Infinite-Width Neural Networks" (Tensor Programs IV), ICML
2021; seed 001. Every abc-parametrization is either in the kernel regime (features stay at
their initialization as ``n → ∞``) or feature-learning; μP is the maximal feature-learning one.

Experiment (`notes/seeds-hf.md` P42): an MLP ``d → n → n → 1`` (ReLU) at widths ``n``, trained
by ``steps`` full-batch GD steps on a fixed regression batch, once in NTK parametrization (one
learning rate) and once in μP (`gdlab.models.parametrization`: per-layer learning rates,
applied with `gdlab.optim.scale_by_param`), from the same raw weights. We measure the relative
change of the last hidden layer on held-out inputs, ``‖h_T − h_0‖_F / ‖h_0‖_F``
(`gdlab.probes.feature_change`), and fit its log-log slope against ``n``.

Prediction: slope −½ for NTK (``Δh = Θ(n^-1/2)``), 0 for μP (``Δh = Θ(1)``). As a control
on the μP implementation (the P42 pitfall) we also measure the hidden layer's *own* update's
contribution, ``‖mult·φ(h_1)ΔW_2ᵀ‖_F / ‖mult·φ(h_1)W_2ᵀ‖_F``: Θ(1) in μP, while a μP with
NTK-style hidden learning rate makes it vanish as ``1/n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gdlab.core import functionalize, load_params
from gdlab.models import MLP, lr_scales
from gdlab.optim import chain, gd, scale_by_param
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.probes import feature_change
from gdlab.probes.coord_check import fit_slope
from gdlab.train import mse, train

NAME = "mup-feature-learning"
PARAMS = ("ntk", "mup")

# CATALOG.md: NTK slope in [−0.7, −0.3] (theory −½; a prototype measured −0.52).
NTK_SLOPE = (-0.7, -0.3)
# CATALOG.md: |μP slope| < 0.15 (theory 0; a prototype measured −0.02).
MUP_MAX_ABS_SLOPE = 0.15


@dataclass(frozen=True)
class Config:
    """Quick preset: widths 128…2048, 5 GD steps (P42's setting up to width 2048), 4 inits."""

    d: int = 16
    n_train: int = 64
    n_eval: int = 32
    widths: tuple[int, ...] = (128, 256, 512, 1024, 2048)
    steps: int = 5
    lr: float = 0.5  # base learning rate η: NTK uses η on every layer, μP η·lr_scale
    activation: str = "relu"
    # Inits averaged per width. With one init the NTK slope scattered over −0.45 … −0.67 across
    # 5 seeds (the O(1) random factor of Δh differs per init); 4 tighten it.
    inits: int = 4

    def __post_init__(self):
        if len(self.widths) < 3 or list(self.widths) != sorted(set(self.widths)):
            raise ValueError("need >= 3 strictly increasing widths to fit a slope")
        if min(self.widths) < 2 or self.d < 1 or self.n_train < 1 or self.n_eval < 1:
            raise ValueError("widths must be >= 2 and d, n_train, n_eval >= 1")
        if self.steps < 1 or not self.lr > 0 or self.inits < 1:
            raise ValueError("steps and inits must be >= 1 and lr > 0")


def _features(model: MLP, params, x: torch.Tensor) -> list[torch.Tensor]:
    load_params(model, params)
    with torch.no_grad():
        return model.hidden(x)


def train_one(cfg: Config, parametrization: str, width: int, data, g_init) -> dict:
    """Train one net for ``cfg.steps`` steps; feature change and the hidden layer's own term."""
    x, y, x_eval = data
    model = MLP(cfg.d, (width, width), 1, activation=cfg.activation,
                parametrization=parametrization, generator=g_init)
    f, params = functionalize(model)
    tx = chain(gd(cfg.lr), scale_by_param(lr_scales(model)))
    res = train(lambda p: mse(f(p, x), y), params, tx, cfg.steps).raise_if_diverged()
    h1_0, h2_0 = _features(model, params, x_eval)
    h1_t, h2_t = _features(model, res.params, x_eval)
    mult = model.layers[1].multiplier
    w2_0, w2_t = params["layers.1.weight"], res.params["layers.1.weight"]
    own = feature_change(mult * h1_t @ w2_0.T, mult * h1_t @ w2_t.T)  # ΔW_2's own term
    return {"change": feature_change(h2_0, h2_t), "own": own}


def run(cfg: Config, ctx: RunContext) -> dict:
    """Feature change at every width, for NTK and μP from the same raw weights."""
    g = ctx.generator(0)
    x = torch.randn(cfg.n_train, cfg.d, generator=g)
    y = torch.randn(cfg.n_train, 1, generator=g)
    x_eval = torch.randn(cfg.n_eval, cfg.d, generator=g)
    data = tuple(t.to(ctx.device) for t in (x, y, x_eval))
    out: dict = {}
    for param in PARAMS:
        changes, owns = [], []
        for i, width in enumerate(cfg.widths):
            # Same raw weights w ~ N(0, 1) for both parametrizations (both use unit init std);
            # averaging over a few inits per width removes the O(1) per-init factor of Δh.
            rs = [train_one(cfg, param, width, data, ctx.generator(1 + i * cfg.inits + k))
                  for k in range(cfg.inits)]
            changes.append(float(np.mean([r["change"] for r in rs])))
            owns.append(float(np.mean([r["own"] for r in rs])))
            ctx.log(f"{param}_change", width, changes[-1])
            ctx.log(f"{param}_own", width, owns[-1])
        out[f"{param}_change"] = changes
        out[f"{param}_own"] = owns
        out[f"{param}_slope"] = fit_slope(cfg.widths, changes)
        out[f"{param}_own_slope"] = fit_slope(cfg.widths, owns)
    return out


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: NTK slope in [−0.7, −0.3]; μP slope and μP hidden-layer term slope near 0."""

    def checks(r):
        return (
            check("NTK slope of ‖Δh‖/‖h‖ vs width", r["ntk_slope"], "in", NTK_SLOPE,
                  prediction="−1/2 (kernel regime)"),
            check("|μP slope| of ‖Δh‖/‖h‖ vs width", abs(r["mup_slope"]), "<",
                  MUP_MAX_ABS_SLOPE, prediction="0 (features move Θ(1))"),
            # P42's control: μP must move features through its hidden layer too.
            check("|μP slope| of the hidden layer's own update", abs(r["mup_own_slope"]), "<",
                  MUP_MAX_ABS_SLOPE, prediction="0 (a lazy hidden lr gives −1)"),
        )

    return Verdict.from_seeds(NAME, seed_results(runs, checks),
                              prediction="‖Δh‖/‖h‖ ∝ n^-1/2 in NTK parametrization, Θ(1) in μP")


def figure(cfg: Config, runs: list[RunRecord]):
    """Feature change and the hidden layer's own term against width, with the theory slopes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    w = np.asarray(cfg.widths, dtype=float)
    colors = {"ntk": "tab:blue", "mup": "tab:red"}
    done = [r for r in runs if "ntk_change" in r.values]
    for ax, key, title in ((axes[0], "change", "‖h_T − h_0‖/‖h_0‖ (last hidden layer)"),
                           (axes[1], "own", "hidden layer's own update ΔW₂")):
        for param in PARAMS:
            vals = np.array([r[f"{param}_{key}"] for r in done])
            if not len(vals):
                continue
            for v in vals:
                ax.loglog(w, v, "o", color=colors[param], alpha=0.35, ms=3)
            mean = np.exp(np.log(vals).mean(0))
            slope = fit_slope(w, mean)
            ax.loglog(w, mean, "-", color=colors[param],
                      label=f"{param.upper() if param == 'ntk' else 'μP'} (slope {slope:+.2f})")
            theory = -0.5 if param == "ntk" else 0.0
            ax.loglog(w, mean[0] * (w / w[0]) ** theory, "--", color=colors[param], lw=0.8,
                      label=f"theory n^{theory:g}")
        ax.set(xlabel="width n", title=title)
        ax.set_xticks(w, [str(int(v)) for v in w])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=7)
    axes[0].set_ylabel("relative change after T steps")
    fig.suptitle(f"Feature learning: NTK vs μP ({cfg.steps} GD steps, lr {cfg.lr:g})")
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="After t steps, hidden-feature change ‖Δh‖/‖h‖ vanishes as width^-1/2 in NTK "
          "parametrization and stays Θ(1) in μP.",
    source="Yang & Hu 2021 (ICML), Tensor Programs IV; seed 001",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    # P42's 5 steps up to width 8192. The NTK change carries an O(1) per-init factor (the
    # initial residual y − f_0 differs per init), so the slope over 7 widths from one seed
    # scattered (−0.35 with 4 inits, measured); the full preset averages 8 inits per width.
    presets={"full": {"widths": (128, 256, 512, 1024, 2048, 4096, 8192), "inits": 8}},
    prediction="slope of ‖Δh‖/‖h‖ vs width: −1/2 (NTK), 0 (μP)",
    group="Feature learning and parametrization",
))

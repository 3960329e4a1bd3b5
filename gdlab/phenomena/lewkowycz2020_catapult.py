"""Large learning rates: lazy below 2/λ_0, a catapult between 2/λ_0 and ~4/λ_0, divergence above.

Lewkowycz, Bahri, Dyer, Sohl-Dickstein & Gur-Ari, "The large learning rate phase of deep
learning: the catapult mechanism", arXiv:2003.02218 (2020), Sections 2-3; seed 004
('large learning rates').

Claim: for a wide network trained by GD on the squared loss, with ``λ_0`` the top eigenvalue
of the NTK at initialization (normalized by ``n``, i.e. the top eigenvalue of the GGN
``JᵀJ/n``): for ``η < 2/λ_0`` training is lazy (the kernel barely moves); for
``2/λ_0 < η < η_max`` (``η_max = 4/λ_0`` for the two-layer linear "uv" model the paper solves)
the loss first grows exponentially, the curvature then drops, and training converges to a
flatter point with ``λ_T < 2/η`` (the catapult); for ``η > η_max`` it diverges.

Experiment: the paper's solvable model ``f(x) = vᵀ U x/√(md)`` (`gdlab.models.MLP` with
identity activation, NTK parametrization, no bias), width ``m``, ``n < d`` points (so a zero
loss is reachable), ``y ~ N(0, 1)``, gdlab's `mse`, full-batch GD at ``η = c/λ_0`` for a grid of
``c``. ``λ_0`` and ``λ_T`` come from the NTK side of the GGN-NTK duality
(`mse_ggn_eigenvalues`: an ``n × n`` problem instead of a ``P × P`` one); the final sharpness
``λ_1(∇²L)`` at the end by Lanczos. The grids stay clear of the boundaries, where the dynamics
slow down critically (at ``c = 2.2`` the spike is 1.8× only: the unstable mode grows by
``|1 − c| = 1.2`` per step while the kernel already shrinks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gdlab.core import functionalize
from gdlab.models import MLP
from gdlab.optim import gd
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.probes.curvature import mse_ggn_eigenvalues, top_eigenvalues
from gdlab.train import mse, train

NAME = "catapult"

# Notes (seed 004, C1): lazy runs keep the kernel, |λ_T/λ_0 − 1| < 0.05.
LAZY_KERNEL_CHANGE = 0.05
# Lazy: no spike. Linearized GD with ηλ_0 < 2 contracts every NTK mode, so the loss never
# exceeds its initial value; 1% slack for the O(1/√m) nonlinearity.
LAZY_MAX_RISE = 1.01
# Notes (C1): a catapult is a loss spike above 2× the initial loss ...
CATAPULT_MIN_SPIKE = 2.0
# ... after which training converges (final loss below 1% of the initial) with η·λ_T < 2.
CONVERGED = 1e-2
STABLE = 2.0


@dataclass(frozen=True)
class Config:
    """Quick sizes: width 1024, n = 8 points in d = 10, 500 steps, 9 step sizes c/λ_0."""

    width: int = 1024
    n: int = 8
    d: int = 10
    steps: int = 500
    lazy: tuple[float, ...] = (0.5, 1.0, 1.5, 1.9)  # c = η·λ_0 < 2
    catapult: tuple[float, ...] = (2.5, 3.0, 3.5)  # 2 < c < 4
    divergent: tuple[float, ...] = (5.0, 6.0)  # "well above" 4
    loss_every: int = 2

    def __post_init__(self):
        if min(self.width, self.n, self.d, self.steps, self.loss_every) < 1:
            raise ValueError("width, n, d, steps and loss_every must be positive")
        if self.n >= self.d:
            raise ValueError("need n < d so that the linear uv model can interpolate")
        if not (self.lazy and self.catapult and self.divergent):
            raise ValueError("each regime needs at least one step size")
        if max(self.lazy) >= 2 or min(self.catapult) <= 2 or max(self.catapult) >= 4 \
                or min(self.divergent) <= 4:
            raise ValueError("grids must respect the regimes: lazy < 2 < catapult < 4 < divergent")


def run(cfg: Config, ctx: RunContext) -> dict:
    """GD at η = c/λ_0 for every c of the three grids, from one initialization."""
    g = ctx.generator(0)
    dt = torch.float64  # λ_T/λ_0 − 1 is compared at the 1e-2 level; float64 removes rounding
    x = torch.randn(cfg.n, cfg.d, generator=g, dtype=dt).to(ctx.device)
    y = torch.randn(cfg.n, 1, generator=g, dtype=dt).to(ctx.device)
    net = MLP(cfg.d, (cfg.width,), 1, activation="identity", parametrization="ntk", bias=False,
              generator=g).to(device=ctx.device, dtype=dt)
    f, params = functionalize(net)
    lam0 = float(mse_ggn_eigenvalues(f, x, params=params)[0])

    def loss(p):
        return mse(f(p, x), y)

    out: dict = {"lambda0": lam0, "c": [], "regime": [], "diverged": [], "spike": [],
                 "final_loss_ratio": [], "kernel_ratio": [], "eta_sharpness": []}
    grid = [(c, "lazy") for c in cfg.lazy] + [(c, "catapult") for c in cfg.catapult] + \
           [(c, "divergent") for c in cfg.divergent]
    for i in ctx.trange(len(grid), desc=NAME):
        c, regime = grid[i]
        lr = c / lam0
        def log(name, step, value, c=c):
            if name == "loss" and step % cfg.loss_every == 0:
                ctx.log(f"loss_c{c:g}", step, value)

        res = train(loss, params, gd(lr), cfg.steps, log=log)
        losses = np.asarray(res.losses)
        out["c"].append(c)
        out["regime"].append(regime)
        out["diverged"].append(res.diverged)
        out["spike"].append(float(losses.max() / losses[0]))
        if res.diverged:
            out["final_loss_ratio"].append(float("inf"))
            out["kernel_ratio"].append(float("nan"))
            out["eta_sharpness"].append(float("nan"))
            continue
        out["final_loss_ratio"].append(float(loss(res.params)) / float(losses[0]))
        out["kernel_ratio"].append(float(mse_ggn_eigenvalues(f, x, params=res.params)[0]) / lam0)
        sharp = float(top_eigenvalues(f, mse, x, y, params=res.params, generator=g)[0])
        out["eta_sharpness"].append(lr * sharp)
    return out


def _pick(r: RunRecord, key: str, regime: str) -> list[float]:
    return [v for v, reg in zip(r[key], r["regime"], strict=True) if reg == regime]


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: all three regimes behave as predicted over their grids."""

    def checks(r):
        lazy_div = sum(_pick(r, "diverged", "lazy")) + sum(_pick(r, "diverged", "catapult"))
        return (
            check("lazy + catapult runs that diverged", lazy_div, "==", 0, prediction="0"),
            check("lazy (ηλ₀<2): max |λ_T/λ₀ − 1|",
                  max(abs(k - 1) for k in _pick(r, "kernel_ratio", "lazy")), "<",
                  LAZY_KERNEL_CHANGE, prediction="≈ 0 (kernel frozen)"),
            check("lazy: max over η of max loss / initial loss", max(_pick(r, "spike", "lazy")),
                  "<=", LAZY_MAX_RISE, prediction="1 (monotone)"),
            check("catapult (2<ηλ₀<4): min over η of max loss / initial loss",
                  min(_pick(r, "spike", "catapult")), ">", CATAPULT_MIN_SPIKE,
                  prediction="loss spikes"),
            check("lazy + catapult: max final / initial loss",
                  max(_pick(r, "final_loss_ratio", "lazy")
                      + _pick(r, "final_loss_ratio", "catapult")),
                  "<", CONVERGED, prediction="converges"),
            check("catapult: max over η of η·λ₁(∇²L) at the end",
                  max(_pick(r, "eta_sharpness", "catapult")), "<", STABLE,
                  prediction="< 2 (catapulted to a flatter region)"),
            check(f"divergent (ηλ₀ ≥ {min(cfg.divergent):g}): runs that did not diverge",
                  len(cfg.divergent) - sum(_pick(r, "diverged", "divergent")), "==", 0,
                  prediction="0"),
        )

    return Verdict.from_seeds(
        NAME, seed_results(runs, checks),
        prediction="lazy for ηλ₀ < 2, catapult with final ηλ < 2 for 2 < ηλ₀ < 4, "
                   "divergence well above 4")


def figure(cfg: Config, runs: list[RunRecord]):
    """Loss curves per ηλ_0 (seed 0) and the final kernel scale λ_T/λ_0 against ηλ_0."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    cmap = plt.get_cmap("viridis")
    cs = list(cfg.lazy) + list(cfg.catapult) + list(cfg.divergent)
    if runs:
        for j, c in enumerate(cs):
            key = f"loss_c{c:g}"
            if key in runs[0].series:
                s, v = runs[0].series[key]
                ax1.semilogy(s, np.maximum(v, 1e-30), color=cmap(j / max(1, len(cs) - 1)),
                             label=f"ηλ₀={c:g}")
    ax1.set_xscale("symlog", linthresh=20)  # linear over the first 20 steps, where spikes are
    ax1.set(xlabel="GD step", ylabel="training loss", title="Lazy, catapult, divergent (seed 0)",
            ylim=(1e-20, 1e8))
    ax1.legend(fontsize=7, ncol=2)
    for r in runs:
        if r.status != "done":
            continue
        ok = [(c, k) for c, k, dv in zip(r["c"], r["kernel_ratio"], r["diverged"], strict=True)
              if not dv]
        ax2.plot([c for c, _ in ok], [k for _, k in ok], "o", alpha=0.6)
        for c, dv in zip(r["c"], r["diverged"], strict=True):
            if dv:
                ax2.plot(c, 0.05, "rx")
    grid = np.linspace(0.3, max(cs) + 0.5, 200)
    ax2.plot(grid, np.where(grid < 2, 1.0, np.nan), "k--", label="lazy: λ_T = λ₀")
    ax2.plot(grid[grid > 2], 2 / grid[grid > 2], "k:", label="catapult bound: λ_T < 2/η")
    ax2.axvspan(2, 4, color="C1", alpha=0.08, label="2/λ₀ < η < 4/λ₀")
    ax2.axvspan(4, max(cs) + 0.5, color="r", alpha=0.06, label="diverges (× = diverged)")
    ax2.set(xlabel="η·λ₀", ylabel="λ_T / λ₀ (NTK scale at the end)",
            title="Final curvature vs step size",
            ylim=(0, 1.2))
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="GD with 2/λ₀ < η < ~4/λ₀ catapults: the loss spikes, then converges where the "
          "sharpness is below 2/η; below 2/λ₀ training is lazy, well above it diverges.",
    source="Lewkowycz et al. 2020 (arXiv:2003.02218), Sections 2-3; seed 004",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"width": 4096, "n": 16, "d": 20, "steps": 1000,
                      "lazy": (0.5, 1.0, 1.5, 1.9), "catapult": (2.5, 3.0, 3.5, 3.9),
                      "divergent": (4.5, 5.0, 6.0)}},
    prediction="three regimes split at ηλ₀ = 2 and ηλ₀ ≈ 4",
    group="Curvature and stability",
))

"""The best learning rate is stable across widths in μP and drifts in standard parametrization.

Yang, Hu, Babuschkin, Sidor, Liu, Farhi, Ryder, Pachocki, Chen & Gao, "Tensor Programs V:
Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer", 2022 (Fig. 1, 3).

Experiment: an MLP ``d → n → n → k`` (ReLU) trained full-batch by Adam (TP5's optimizer for
its main results; ``optimizer="sgd"`` for GD) with a cosine-decayed learning rate, on the
½-squared error to one-hot targets of a Gaussian mixture, for a fixed number of steps, at
several widths ``n`` and on a grid of base learning rates (half-octave steps): once in SP (one
learning rate, init ``σ_w/√fan_in``) and once in μP (`gdlab.models.parametrization`,
per-layer learning rates via `gdlab.optim.scale_by_param`). All learning rates of one width
train at once as a stacked ensemble from the same initialization (`gdlab.train.ensemble`).
The optimum of each width is the grid point of lowest final training loss, refined by a
parabola through its neighbours in ``(log₂ lr, log loss)`` when both are finite.

Theory: in μP every layer's update moves features by Θ(1) at a width-independent base lr, so
the loss-vs-lr curve converges as ``n → ∞`` and its minimizer stays put. In SP a
width-independent lr moves the hidden features and the readout by Θ(lr·n) (Adam's entrywise
steps add up coherently over ``n`` inputs; for GD the kernel grows ∝ n), so the optimum
shrinks like 1/n.

Design choices, each from a measurement at the quick size:

* low-dimensional inputs (d = 8): the width-independent part of the SP dynamics scales with
  ``d``; on digits (d = 64) it dominated at widths ≤ 256 and the SP optimum moved only 2×;
* a cosine schedule: with a constant lr the final loss jumped by up to 2× between adjacent
  grid points (large-lr oscillations), moving the argmin by octaves;
* Adam by default: with GD the μP optimum transferred (max/min 1.1-1.4×) but the SP
  loss-vs-lr curves had a second minimum at the edge of stability (catapult-like), so the
  SP optimum was ill-defined in some seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from gdlab.core import functionalize, stack
from gdlab.data import gaussian_mixture
from gdlab.models import MLP, lr_scales
from gdlab.optim import adam, chain, gd, scale_by_param
from gdlab.optim.schedules import cosine_decay_schedule
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.train import mse
from gdlab.train.ensemble import member_scale, mlp_objective, train_ensemble

NAME = "mup-lr-transfer"

# CATALOG.md: "μP optimum moves ≤ 2× over 8× width" (max/min of the optimal lr over widths).
MUP_MAX_SHIFT = 2.0
# CATALOG.md: "SP moves ≥ 4×, or the claim is reported failing" (optimum at the smallest
# width over optimum at the largest; theory: 8× over 8× width).
SP_MIN_SHIFT = 4.0


@dataclass(frozen=True)
class Config:
    """Quick preset: widths 32…256 (8×), 19 (SP) and 11 (μP) learning rates, 100 steps."""

    d: int = 8
    classes: int = 4
    separation: float = 2.0
    n: int = 128
    widths: tuple[int, ...] = (32, 64, 128, 256)
    depth: int = 2
    steps: int = 100
    optimizer: str = "adam"  # adam | sgd (μP reads its lr scales for this optimizer)
    # log₂ of the base learning rates: half-octave grids bracketing each optimum with room on
    # both sides (measured with Adam at the quick size: SP optima 2^-4.6 … 2^-9.1, μP 2^-0.5 …
    # 2^-1.1); an optimum on a grid edge counts as not found.
    sp_log2_lrs: tuple[float, ...] = tuple(x / 2 for x in range(-22, -3))
    mup_log2_lrs: tuple[float, ...] = tuple(x / 2 for x in range(-7, 4))

    def __post_init__(self):
        if len(self.widths) < 2 or list(self.widths) != sorted(set(self.widths)):
            raise ValueError("need >= 2 strictly increasing widths")
        for grid in (self.sp_log2_lrs, self.mup_log2_lrs):
            if len(grid) < 3 or list(grid) != sorted(set(grid)):
                raise ValueError("learning-rate grids need >= 3 strictly increasing values")
            steps = np.diff(grid)
            if not np.allclose(steps, steps[0]):
                raise ValueError("learning-rate grids must be evenly spaced in log2")
        if self.d < 1 or self.classes < 2 or self.n < self.classes or self.depth < 1:
            raise ValueError("need d >= 1, classes >= 2, n >= classes, depth >= 1")
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be sgd or adam, got {self.optimizer!r}")
        if self.steps < 1 or self.separation < 0:
            raise ValueError("need steps >= 1 and separation >= 0")


def optimum(log2_lrs, losses) -> float:
    """``log₂`` of the best learning rate; NaN when the minimum sits on the grid's edge.

    The discrete minimizer of the final loss, moved to the vertex of the parabola through it
    and its two neighbours in ``(log₂ lr, log loss)`` when both neighbours are finite.
    """
    x = np.asarray(log2_lrs, dtype=float)
    y = np.log(np.asarray(losses, dtype=float))
    y[~np.isfinite(y)] = np.inf
    i = int(np.argmin(y))
    if not np.isfinite(y[i]) or i == 0 or i == len(x) - 1:
        return float("nan")
    lo, mid, hi = y[i - 1], y[i], y[i + 1]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return float(x[i])
    h = x[1] - x[0]
    curv = lo - 2 * mid + hi
    return float(x[i] - 0.5 * h * (hi - lo) / curv) if curv > 0 else float(x[i])


def sweep(cfg: Config, parametrization: str, width: int, data, g: torch.Generator) -> list[float]:
    """Final training loss for every learning rate of the grid (inf where it diverged)."""
    x, y = data
    grid = cfg.sp_log2_lrs if parametrization == "sp" else cfg.mup_log2_lrs
    lrs = torch.tensor([2.0**v for v in grid], dtype=torch.float64)
    model = MLP(cfg.d, (width,) * cfg.depth, cfg.classes, parametrization=parametrization,
                optimizer=cfg.optimizer, generator=g).to(x.device)
    _, params = functionalize(model)
    members = stack([params] * len(lrs))  # same init for every learning rate
    # Cosine decay to 0: the last steps settle the large-lr oscillations, so the final loss is
    # a smooth function of the lr (with a constant lr it jumped by 2× between grid points).
    schedule = cosine_decay_schedule(1.0, cfg.steps)
    rule = gd(schedule) if cfg.optimizer == "sgd" else adam(schedule)
    tx = chain(rule, member_scale(lrs.to(x.device)), scale_by_param(lr_scales(model)))
    res = train_ensemble(mlp_objective(model, mse, data=(x, y)), members, tx, cfg.steps)
    return [lo[-1] if st == "ok" and lo and math.isfinite(lo[-1]) else math.inf
            for lo, st in zip(res.losses, res.status, strict=True)]


def run(cfg: Config, ctx: RunContext) -> dict:
    """Loss-vs-lr curves at every width, for SP and μP; the optimum of each."""
    ds = gaussian_mixture(cfg.n, cfg.d, cfg.classes, separation=cfg.separation, n_test=1,
                          generator=ctx.generator(0))
    x = ds.x_train.to(ctx.device)
    y = F.one_hot(ds.y_train, cfg.classes).to(x.dtype).to(ctx.device)
    out: dict = {}
    for param, grid in (("sp", cfg.sp_log2_lrs), ("mup", cfg.mup_log2_lrs)):
        curves, best = [], []
        for i, width in enumerate(cfg.widths):
            losses = sweep(cfg, param, width, (x, y), ctx.generator(1 + i))
            curves.append(losses)
            best.append(optimum(grid, losses))
            ctx.log(f"{param}_log2_opt", width, best[-1])
        out[f"{param}_losses"] = [[v if math.isfinite(v) else None for v in c] for c in curves]
        out[f"{param}_log2_opt"] = best
    sp, mup = np.asarray(out["sp_log2_opt"]), np.asarray(out["mup_log2_opt"])
    out["sp_shift"] = float(2.0 ** (sp[0] - sp[-1]))  # NaN propagates from an edge optimum
    out["mup_shift"] = float(2.0 ** (np.max(mup) - np.min(mup)))
    return out


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: μP optimum within 2× across widths; SP optimum falls ≥ 4×."""
    ratio = cfg.widths[-1] / cfg.widths[0]

    def checks(r):
        return (
            check(f"μP: max/min optimal lr over {ratio:g}× width", r["mup_shift"], "<=",
                  MUP_MAX_SHIFT, prediction="1 (transfer)"),
            check(f"SP: optimal lr at n={cfg.widths[0]} / at n={cfg.widths[-1]}", r["sp_shift"],
                  ">=", SP_MIN_SHIFT, prediction=f"{ratio:g} (∝ 1/n)"),
        )

    return Verdict.from_seeds(NAME, seed_results(runs, checks),
                              prediction="μP optimum constant in width; SP optimum ∝ 1/width")


def figure(cfg: Config, runs: list[RunRecord]):
    """Training loss against learning rate per width (seed-median), SP and μP side by side."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    colors = plt.cm.viridis(np.linspace(0, 0.85, len(cfg.widths)))
    done = [r for r in runs if "sp_losses" in r.values]
    for ax, param, grid, title in ((axes[0], "sp", cfg.sp_log2_lrs, "Standard parametrization"),
                                   (axes[1], "mup", cfg.mup_log2_lrs, "μP")):
        for i, width in enumerate(cfg.widths):
            if not done:
                break
            curves = np.array([[np.inf if v is None else v for v in r[f"{param}_losses"][i]]
                               for r in done])
            med = np.median(curves, axis=0)
            ax.plot(grid, med, "o-", ms=3, color=colors[i], label=f"n = {width}")
            opts = np.array([r[f"{param}_log2_opt"][i] for r in done])
            opt = np.nanmedian(opts) if np.any(np.isfinite(opts)) else np.nan
            if np.isfinite(opt):
                ax.axvline(opt, color=colors[i], ls="--", lw=0.8)
        ax.set_yscale("log")
        ax.set(xlabel="log₂ base learning rate", title=title)
        ax.legend(fontsize=7)
    axes[0].set_ylabel(f"training loss after {cfg.steps} steps (seed median)")
    fig.suptitle("Theory: the optimum (dashed) drifts ∝ 1/n in SP and stays put in μP")
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="The best learning rate is stable across widths in μP and drifts in standard "
          "parametrization.",
    source="Yang et al. 2022, Tensor Programs V (Fig. 1, 3)",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"n": 256, "widths": (64, 128, 256, 512), "steps": 200,
                      "sp_log2_lrs": tuple(x / 2 for x in range(-26, -5)),
                      "mup_log2_lrs": tuple(x / 2 for x in range(-8, 5))}},
    prediction="μP optimal lr moves ≤ 2× over 8× width; SP optimal lr falls ∝ 1/width",
    group="Feature learning and parametrization",
))

"""Lion with decoupled weight decay λ solves the box-constrained problem ‖x‖∞ ≤ 1/λ.

Chen, Liang, Liu et al. 2023, "Lion Secretly Solves Constrained Optimization: As Lyapunov
Predicts" (arXiv:2310.05898; seed 001). Lion's update ``x ← x − lr(sign(c) + λx)`` makes
``{‖x‖∞ ≤ 1/λ}`` attracting and invariant, and its Lyapunov analysis shows that Lion
minimizes ``f`` subject to that box.

Experiment (notes P48): ``f(x) = ½‖Ax − b‖²`` with ``A ∈ R^{40×20}`` of entries ``N(0, 1)/6``
and ``b = Ax*``, ``x* = 3·N(0, I)``, so the unconstrained minimizer lies far outside the box
of radius ``1/λ = 2``. Lion (β = (0.9, 0.99), λ = 0.5) starts at ``x*`` itself, where
``∇f = 0``: only the decay can move it. After ``30/lr`` steps we measure ``‖x_T‖∞`` and the
distance to the box-constrained minimizer ``x_box``, computed by projected gradient descent
(checked against scipy's bounded least squares in the tests). Control: the same Lion with
λ = 0 from ``x₀ = 0`` leaves the box (the box is the decay's doing). The final distance is
also measured for three learning rates; Lion's sign steps leave an ``O(lr)`` error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gdlab import optim
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register

NAME = "lion-box-constraint"

# CATALOG.md: "‖x_T‖∞ ≤ 1/λ + 1e-3". Entering from outside, an active coordinate's excess
# decays like (1 − lr·λ)^t: e^{−30λ} ≈ 3e-7 of the initial excess after 30/lr steps.
BOX_SLACK = 1e-3
# CATALOG.md: "distance to projected-GD solution < 1e-2" (measured in ‖·‖∞; the prototype of
# notes P48 measured 0.0016 at lr = 1e-3).
MAX_DISTANCE = 1e-2


@dataclass(frozen=True)
class Config:
    """Quick = the notes' experiment (cheap: 20 parameters)."""

    m: int = 40
    d: int = 20
    entry_scale: float = 1 / 6
    minimizer_scale: float = 3.0
    weight_decay: float = 0.5
    betas: tuple[float, float] = (0.9, 0.99)
    lr: float = 1e-3
    sweep_lrs: tuple[float, ...] = (1e-2, 3e-3, 1e-3)
    time: float = 30.0  # steps = time / lr
    pgd_steps: int = 20_000

    def __post_init__(self):
        if self.m < self.d or self.d < 1:
            raise ValueError("need m >= d >= 1 (a strongly convex least-squares problem)")
        if not (self.weight_decay > 0 and self.lr > 0 and self.time > 0):
            raise ValueError("weight_decay, lr and time must be positive")
        if any(not 0 <= b < 1 for b in self.betas) or len(self.betas) != 2:
            raise ValueError("betas: two numbers in [0, 1)")
        if len(self.sweep_lrs) < 2 or any(not lr > 0 for lr in self.sweep_lrs):
            raise ValueError("sweep_lrs: at least two positive learning rates")
        if self.pgd_steps < 1:
            raise ValueError("pgd_steps must be >= 1")


def box_least_squares(a: Tensor, b: Tensor, radius: float, steps: int) -> Tensor:
    """``argmin_{‖x‖∞ ≤ r} ½‖Ax − b‖²`` by projected GD with step ``1/L``, ``L = ‖A‖₂²``."""
    step = 1.0 / float(torch.linalg.matrix_norm(a, ord=2)) ** 2
    x = torch.zeros(a.shape[1], dtype=a.dtype, device=a.device)
    for _ in range(steps):
        x_new = (x - step * (a.T @ (a @ x - b))).clamp(-radius, radius)
        if bool((x_new - x).abs().max() == 0):
            return x_new
        x = x_new
    return x


def kkt_residual(a: Tensor, b: Tensor, x: Tensor, radius: float) -> float:
    """Largest violation of the box KKT conditions (``x = clip(x − ∇f)``), a certificate."""
    return float((x - (x - (a.T @ (a @ x - b))).clamp(-radius, radius)).abs().max())


def lion_run(a: Tensor, b: Tensor, x0: Tensor, *, lr: float, weight_decay: float,
             betas: tuple[float, float], steps: int, log=None) -> Tensor:
    """``steps`` of `gdlab.optim.lion` on ``½‖Ax − b‖²`` from ``x0``; ``log(t, x)`` if given."""
    tx = optim.lion(lr, betas=betas, weight_decay=weight_decay)
    params = {"x": x0.clone()}
    state = tx.init(params)
    record = set(np.unique(np.geomspace(1, steps, 60).astype(int)).tolist()) if log else set()
    for t in range(1, steps + 1):
        grads = {"x": a.T @ (a @ params["x"] - b)}
        updates, state = tx.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        if t in record:
            log(t, params["x"])
    return params["x"]


def run(cfg: Config, ctx: RunContext) -> dict:
    """Lion from the unconstrained minimizer; distance to the box solution; controls."""
    g = ctx.generator()
    a = (cfg.entry_scale * torch.randn(cfg.m, cfg.d, generator=g, dtype=torch.float64))
    x_star = cfg.minimizer_scale * torch.randn(cfg.d, generator=g, dtype=torch.float64)
    a, x_star = a.to(ctx.device), x_star.to(ctx.device)
    b = a @ x_star
    radius = 1.0 / cfg.weight_decay
    x_box = box_least_squares(a, b, radius, cfg.pgd_steps)
    hyper = {"weight_decay": cfg.weight_decay, "betas": tuple(cfg.betas)}

    def log(t, x):
        ctx.log("max_abs_x", t, float(x.abs().max()))
        ctx.log("distance_to_box_solution", t, float((x - x_box).abs().max()))

    x_t = lion_run(a, b, x_star, lr=cfg.lr, steps=round(cfg.time / cfg.lr), log=log, **hyper)
    sweep = []
    for i in ctx.trange(len(cfg.sweep_lrs), desc=NAME):
        lr = cfg.sweep_lrs[i]
        x_lr = x_t if lr == cfg.lr else lion_run(a, b, x_star, lr=lr,
                                                 steps=round(cfg.time / lr), **hyper)
        sweep.append(float((x_lr - x_box).abs().max()))
    x_free = lion_run(a, b, torch.zeros_like(x_star), lr=cfg.lr,
                      steps=round(cfg.time / cfg.lr), weight_decay=0.0, betas=tuple(cfg.betas))
    slope = float(np.polyfit(np.log(cfg.sweep_lrs), np.log(sweep), 1)[0])
    return {
        "max_abs_x": float(x_t.abs().max()),
        "radius": radius,
        "distance": float((x_t - x_box).abs().max()),
        "sweep_distance": sweep,
        "sweep_slope": slope,
        "control_max_abs_x": float(x_free.abs().max()),
        "unconstrained_max_abs": float(x_star.abs().max()),
        "active_fraction": float((x_box.abs() >= radius - 1e-9).double().mean()),
        "kkt_residual": kkt_residual(a, b, x_box, radius),
        "x_final": x_t.tolist(),
        "x_box": x_box.tolist(),
        "x_star": x_star.tolist(),
    }


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: inside the box, at the box minimizer; and the λ = 0 control leaves it."""

    def checks(r):
        return (
            check("‖x_T‖∞ − 1/λ", r["max_abs_x"] - r["radius"], "<=", BOX_SLACK,
                  prediction="≤ 0: the box is invariant and attracting"),
            check("‖x_T − x_box‖∞ (projected-GD solution)", r["distance"], "<", MAX_DISTANCE,
                  prediction="O(lr)"),
            check("control λ = 0: ‖x_T‖∞ − 1/λ", r["control_max_abs_x"] - r["radius"], ">",
                  0.0, prediction="> 0: without decay Lion heads for x* outside the box"),
        )

    slopes = [r["sweep_slope"] for r in runs if r.status == "done"]
    notes = [f"distance vs lr: log-log slope median {float(np.median(slopes)):.3g} over seeds "
             f"(Lion's sign steps predict ~1)"] if slopes else []
    return Verdict.from_seeds(NAME, seed_results(runs, checks), notes=notes,
                              prediction="x_T ∈ {‖x‖∞ ≤ 1/λ} and x_T → argmin over the box "
                                         "(up to O(lr))")


def figure(cfg: Config, runs: list[RunRecord]):
    """‖x_t‖∞ vs the box; distance vs lr with the O(lr) line; x_T against x_box and x*."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    done = [r for r in runs if r.status == "done"]
    for r in done:
        steps, vals = r.series.get("max_abs_x", ([], []))
        axes[0].semilogx(steps, vals, alpha=0.7, label=f"seed {r.seed}")
    if done:
        axes[0].axhline(done[0]["radius"], color="k", ls="--", label="1/λ (theory)")
    axes[0].set(xlabel="Lion step", ylabel="‖x_t‖∞", title="Lion enters and stays in the box")
    axes[0].legend(fontsize=7)
    lrs = np.array(cfg.sweep_lrs)
    for r in done:
        axes[1].loglog(lrs, r["sweep_distance"], "o-", alpha=0.7)
    if done:
        c = float(np.median([r["sweep_distance"][-1] for r in done])) / lrs[-1]
        axes[1].loglog(lrs, c * lrs, "k--", label="∝ lr")
    axes[1].axhline(MAX_DISTANCE, color="grey", ls=":", label="threshold")
    axes[1].set(xlabel="learning rate", ylabel="‖x_T − x_box‖∞",
                title="Converges to the box minimizer, O(lr)")
    axes[1].legend(fontsize=7)
    if done:
        r = done[0]
        xb, xt, xs = map(np.array, (r["x_box"], r["x_final"], r["x_star"]))
        axes[2].scatter(xs, xb, marker="x", color="grey", label="x_box vs x* (theory)")
        axes[2].scatter(xs, xt, s=12, label="Lion x_T vs x*")
        axes[2].axhline(r["radius"], color="k", lw=0.5)
        axes[2].axhline(-r["radius"], color="k", lw=0.5)
        axes[2].set(xlabel="coordinate of x* (unconstrained)", ylabel="coordinate",
                    title="x_T matches the box solution (seed 0)")
        axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="Lion with decoupled weight decay λ converges into the box ‖x‖∞ ≤ 1/λ and to the "
          "box-constrained minimizer.",
    source="Chen, Liang, Liu et al. 2023, 'Lion secretly solves constrained optimization' "
           "(arXiv:2310.05898); seed 001",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"m": 200, "d": 100, "lr": 3e-4, "sweep_lrs": (1e-2, 3e-3, 1e-3, 3e-4)}},
    prediction="‖x_T‖∞ ≤ 1/λ; x_T → argmin_{‖x‖∞≤1/λ} f up to O(lr)",
    group="Optimizers from the seeds",
))

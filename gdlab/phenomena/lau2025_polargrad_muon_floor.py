"""Nuclear-norm scaling lets PolarGrad converge with a constant step; Muon stalls at O(lr).

Lau, Long, Su 2025, "PolarGrad: A Class of Matrix-Gradient Optimizers from a Unifying
Preconditioning Perspective" (arXiv:2505.21799; notes P59). PolarGrad steps
``X ← X − γ‖G‖_* polar(G)``: with ``⟨G, Δ⟩ = −γ‖G‖_*²`` and ``‖Δ‖_F² = γ²‖G‖_*² rank``, a
constant ``γ ≤ 1/(L·rank)`` decreases an ``L``-smooth, strongly convex ``f`` linearly. Muon's
orthogonalized step has a constant length ``≈ lr·√rank`` whatever the gradient, so with a
constant step it cannot settle: it hovers at a distance ``∝ lr`` from the minimizer.

Experiment (notes P59): ``f(X) = ½‖AXB − C‖_F²``, ``X ∈ R^{10×8}``, ``A = I + 0.3 N/√10``,
``B = I + 0.3 N/√8`` (condition numbers ≈ 2), float64, from ``X₀ = 0``. PolarGrad with
exact (SVD) polar factors, ``γ = 1/(L·8)``, 5000 steps; GD with ``1/L`` as a reference. Muon
(`gdlab.optim.muon`: momentum 0.95, Nesterov, Newton–Schulz in float64, no weight decay) at
three constant learning rates for ``30/lr`` steps each; its plateau distance is the mean
``‖X_t − X*‖_F`` over the last 10% of steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gdlab import optim
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register

NAME = "polargrad-muon-floor"

# notes P59: "PolarGrad f_T < 1e-20" (prototype: 1.7e-29 after 5000 steps; GD 2.6e-30).
MAX_POLARGRAD_LOSS = 1e-20
# notes P59: "Muon's plateau distance has log-log slope vs lr in [0.75, 1.25]" (prototype
# distances 0.0164 / 0.0047 / 0.0017 at lr 1e-2 / 3e-3 / 1e-3, slope ≈ 0.98).
MUON_SLOPE = (0.75, 1.25)
# notes P59: "... and f_T > 1e-7" (prototype: f = 2.0e-6 at lr = 1e-3): Muon does not converge.
MIN_MUON_LOSS = 1e-7


@dataclass(frozen=True)
class Config:
    """Quick = the notes' 10 × 8 problem (cheap)."""

    rows: int = 10
    cols: int = 8
    perturbation: float = 0.3
    polargrad_steps: int = 5000
    muon_lrs: tuple[float, ...] = (3e-2, 1e-2, 3e-3)
    time: float = 30.0  # Muon steps = time / lr
    tail: float = 0.1  # fraction of the last steps averaged for the plateau distance

    def __post_init__(self):
        if self.rows < 1 or self.cols < 1 or self.polargrad_steps < 1:
            raise ValueError("rows, cols and polargrad_steps must be >= 1")
        if len(self.muon_lrs) < 2 or any(not lr > 0 for lr in self.muon_lrs):
            raise ValueError("muon_lrs: at least two positive learning rates")
        if not (self.time > 0 and 0 < self.tail <= 1 and self.perturbation >= 0):
            raise ValueError("time > 0, tail in (0, 1], perturbation >= 0")


def matrix_quadratic(rows: int, cols: int, eps: float, generator: torch.Generator):
    """``(A, B, C, X*, L)`` with ``AX*B = C`` and ``L = ‖A‖₂²‖B‖₂²`` (smoothness of f)."""
    a = torch.eye(rows, dtype=torch.float64) + eps * torch.randn(
        rows, rows, generator=generator, dtype=torch.float64) / math.sqrt(rows)
    b = torch.eye(cols, dtype=torch.float64) + eps * torch.randn(
        cols, cols, generator=generator, dtype=torch.float64) / math.sqrt(cols)
    c = torch.randn(rows, cols, generator=generator, dtype=torch.float64)
    x_star = torch.linalg.solve(a, torch.linalg.solve(b.T, c.T).T)
    smooth = float(torch.linalg.matrix_norm(a, 2) * torch.linalg.matrix_norm(b, 2)) ** 2
    return a, b, c, x_star, smooth


def _run(tx, a: Tensor, b: Tensor, c: Tensor, x_star: Tensor, steps: int, tail: float,
         log=None) -> tuple[float, float]:
    """Final loss and mean distance to ``X*`` over the last ``tail`` of ``steps``."""
    params = {"X": torch.zeros(a.shape[1], b.shape[0], dtype=torch.float64)}
    state = tx.init(params)
    start = steps - max(1, int(tail * steps))
    dists = []
    record = set(np.unique(np.geomspace(1, steps, 50).astype(int)).tolist()) if log else set()
    for t in range(1, steps + 1):
        grads = {"X": a.T @ (a @ params["X"] @ b - c) @ b.T}
        updates, state = tx.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        dist = float((params["X"] - x_star).norm())
        if t > start:
            dists.append(dist)
        if t in record:
            log(t, dist)
    loss = 0.5 * float(((a @ params["X"] @ b - c) ** 2).sum())
    return loss, float(np.mean(dists))


def run(cfg: Config, ctx: RunContext) -> dict:
    """PolarGrad and GD at their constant steps; Muon at several constant learning rates."""
    a, b, c, x_star, smooth = matrix_quadratic(cfg.rows, cfg.cols, cfg.perturbation,
                                               ctx.generator())
    rank = min(cfg.rows, cfg.cols)
    pg_loss, pg_dist = _run(optim.polargrad(1.0 / (smooth * rank)), a, b, c, x_star,
                            cfg.polargrad_steps, cfg.tail,
                            log=lambda t, d: ctx.log("polargrad_distance", t, d))
    gd_loss, _ = _run(optim.gd(1.0 / smooth), a, b, c, x_star, cfg.polargrad_steps, cfg.tail)
    muon_loss, muon_dist = [], []
    for i in ctx.trange(len(cfg.muon_lrs), desc=NAME):
        lr = cfg.muon_lrs[i]
        tx = optim.muon(lr, weight_decay=0.0, ns_dtype=None)
        f, d = _run(tx, a, b, c, x_star, round(cfg.time / lr), cfg.tail,
                    log=lambda t, dd, lr=lr: ctx.log(f"muon_distance_lr_{lr:g}", t, dd))
        muon_loss.append(f)
        muon_dist.append(d)
    slope = float(np.polyfit(np.log(cfg.muon_lrs), np.log(muon_dist), 1)[0])
    return {
        "polargrad_loss": pg_loss,
        "polargrad_distance": pg_dist,
        "gd_loss": gd_loss,
        "muon_loss": muon_loss,
        "muon_distance": muon_dist,
        "muon_slope": slope,
        "muon_min_loss": min(muon_loss),
    }


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: PolarGrad reaches f < 1e-20; Muon's floor scales like lr and stays > 1e-7."""

    def checks(r):
        return (
            check(f"PolarGrad f(X_T), γ = 1/(L·rank), {cfg.polargrad_steps} steps",
                  r["polargrad_loss"], "<", MAX_POLARGRAD_LOSS, prediction="→ 0 linearly"),
            check("Muon plateau distance: log-log slope vs lr", r["muon_slope"], "in",
                  MUON_SLOPE, prediction="1 (floor ∝ lr)"),
            check("Muon f(X_T) at the smallest lr", r["muon_min_loss"], ">", MIN_MUON_LOSS,
                  prediction="> 0: constant-step Muon does not converge"),
        )

    return Verdict.from_seeds(NAME, seed_results(runs, checks),
                              prediction="PolarGrad: linear convergence with a constant step; "
                                         "Muon: distance floor ∝ lr")


def figure(cfg: Config, runs: list[RunRecord]):
    """Distance to X* along the runs (PolarGrad, Muon per lr), and Muon's floor vs lr."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    done = [r for r in runs if r.status == "done"]
    if done:
        r = done[0]
        steps, vals = r.series.get("polargrad_distance", ([], []))
        ax1.loglog(steps, np.maximum(vals, 1e-17), "k", label="PolarGrad (theory: linear → 0)")
        for lr in cfg.muon_lrs:
            steps, vals = r.series.get(f"muon_distance_lr_{lr:g}", ([], []))
            ax1.loglog(steps, vals, label=f"Muon lr = {lr:g}")
        ax1.set(xlabel="step", ylabel="‖X_t − X*‖_F (seed 0)", title="Constant steps")
        ax1.legend(fontsize=7)
    lrs = np.array(cfg.muon_lrs)
    for r in done:
        ax2.loglog(lrs, r["muon_distance"], "o-", alpha=0.7)
    if done:
        k = float(np.median([r["muon_distance"][-1] for r in done])) / lrs[-1]
        ax2.loglog(lrs, k * lrs, "k--", label="∝ lr (theory)")
    ax2.set(xlabel="Muon learning rate", ylabel="plateau ‖X − X*‖_F",
            title="Muon's floor scales with lr")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="On a strongly convex matrix quadratic, PolarGrad (nuclear-norm-scaled polar steps) "
          "converges with a constant step, while Muon stalls at a distance ∝ lr.",
    source="Lau, Long, Su 2025 (arXiv:2505.21799); notes P59",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"muon_lrs": (3e-2, 1e-2, 3e-3, 1e-3), "time": 60.0}},
    prediction="PolarGrad f_T < 1e-20; Muon floor slope ≈ 1 in lr, f_T > 1e-7",
    group="Optimizers from the seeds",
))

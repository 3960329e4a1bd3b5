"""Consensus-based optimization finds the global minimum of Rastrigin where GD gets stuck.

Riedl, Klock, Geldhauser, Fornasier 2023, "Gradient is All You Need? How Consensus-Based
Optimization can be Interpreted as a Stochastic Relaxation of Gradient Descent"
(arXiv:2306.09778; seeds 000, 003): CBO, derivative-free, converges globally on nonconvex
nonsmooth objectives, while plain GD stops in the local minimum nearest its start.

Experiment (CATALOG; parameters of the project's prototype, notes P09 Check 2): shifted
Rastrigin ``f(x) = 10d + Σ_k (x_k − 1)² − 10 cos 2π(x_k − 1)`` in ``d = 10`` (global
minimizer ``x* = 1``, a local minimum near every integer point), ``N = 200`` particles from
``N(0, 4I)``, anisotropic CBO with ``λ = 1, σ = 5, α = 10⁴, Δt = 0.01`` for 3000 steps
(`gdlab.optim.cbo`). Success: ``‖v_T − x*‖∞ < 0.25``. Baseline: GD (step 1e-3 < 2/L,
``L = 2 + 40π²``) for as many steps from each run's initial consensus point. Each seed
does ``runs_per_seed`` independent runs; the CATALOG's "20 runs" are 4 runs × 5 seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gdlab import optim
from gdlab.optim import cbo
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register

NAME = "cbo-global-minimum"

# CATALOG.md: "CBO success (‖v − x*‖∞ < 0.25) in ≥ 90% of 20 runs; GD < 20%".
MIN_CBO_SUCCESS = 0.9
MAX_GD_SUCCESS = 0.2


@dataclass(frozen=True)
class Config:
    """Quick = CATALOG's sizes (d = 10, N = 200) with 4 runs per seed."""

    d: int = 10
    n_particles: int = 200
    runs_per_seed: int = 4
    steps: int = 3000
    lam: float = 1.0
    sigma: float = 5.0
    alpha: float = 1e4
    dt: float = 0.01
    anisotropic: bool = True
    init_std: float = 2.0
    shift: float = 1.0  # the global minimizer is shift·(1, …, 1)
    success_tol: float = 0.25
    gd_lr: float = 1e-3
    record_every: int = 50

    def __post_init__(self):
        if self.d < 1 or self.n_particles < 2 or self.runs_per_seed < 1 or self.steps < 1:
            raise ValueError("need d >= 1, n_particles >= 2, runs_per_seed >= 1, steps >= 1")
        if not (self.dt > 0 and self.init_std > 0 and self.success_tol > 0):
            raise ValueError("dt, init_std and success_tol must be positive")
        if min(self.lam, self.sigma, self.alpha) < 0:
            raise ValueError("lam, sigma and alpha must be >= 0")
        if not 0 < self.gd_lr < 2 / (2 + 40 * math.pi**2):
            raise ValueError("gd_lr must lie in (0, 2/L), L = 2 + 40π², for GD to be stable")
        if self.record_every < 1:
            raise ValueError("record_every must be >= 1")


def rastrigin(x: Tensor, shift: float = 1.0) -> Tensor:
    """``10d + Σ (x_k − s)² − 10 cos 2π(x_k − s)``: ``(..., d)`` → ``(...)``, min 0 at ``s·1``."""
    z = x - shift
    return 10 * z.shape[-1] + (z * z - 10 * torch.cos(2 * math.pi * z)).sum(-1)


def rastrigin_grad(x: Tensor, shift: float = 1.0) -> Tensor:
    """``2(x − s) + 20π sin 2π(x − s)``."""
    z = x - shift
    return 2 * z + 20 * math.pi * torch.sin(2 * math.pi * z)


def gd_from(starts: Tensor, shift: float, lr: float, steps: int) -> Tensor:
    """`gdlab.optim.gd` on Rastrigin from each row of ``starts`` ``(R, d)`` (an ensemble)."""
    tx = optim.gd(lr)
    params = {"x": starts.clone()}
    state = tx.init(params)
    for _ in range(steps):
        updates, state = tx.update({"x": rastrigin_grad(params["x"], shift)}, state, params)
        params = optim.apply_updates(params, updates)
    return params["x"]


def run(cfg: Config, ctx: RunContext) -> dict:
    """``runs_per_seed`` CBO runs and GD from their initial consensus points."""
    g = ctx.generator()
    shape = (cfg.runs_per_seed, cfg.n_particles, cfg.d)
    x0 = cfg.init_std * torch.randn(shape, generator=g, dtype=torch.float64).to(ctx.device)

    def objective(x):
        return rastrigin(x, cfg.shift)

    state = cbo.cbo_init(x0, objective, alpha=cfg.alpha)
    v0 = state.consensus
    for t in ctx.trange(cfg.steps, desc=NAME):
        noise = torch.randn(shape, generator=g, dtype=torch.float64).to(ctx.device)
        state = cbo.cbo_step(state, objective, noise, lam=cfg.lam, sigma=cfg.sigma,
                             alpha=cfg.alpha, dt=cfg.dt, anisotropic=cfg.anisotropic)
        if (t + 1) % cfg.record_every == 0 or t == 0:
            err = (state.consensus - cfg.shift).abs().amax(-1)  # (R,)
            ctx.log("consensus_error_median", t + 1, float(err.median()))
            ctx.log("consensus_f_median", t + 1, float(objective(state.consensus).median()))
        if not bool(torch.isfinite(state.consensus).all()):
            raise FloatingPointError("CBO consensus point became non-finite")
    cbo_err = (state.consensus - cfg.shift).abs().amax(-1)
    x_gd = gd_from(v0, cfg.shift, cfg.gd_lr, cfg.steps)
    gd_err = (x_gd - cfg.shift).abs().amax(-1)
    return {
        "cbo_errors": cbo_err.tolist(),
        "cbo_success": (cbo_err < cfg.success_tol).double().mean().item(),
        "cbo_f": objective(state.consensus).tolist(),
        "gd_errors": gd_err.tolist(),
        "gd_success": (gd_err < cfg.success_tol).double().mean().item(),
        "gd_f": objective(x_gd).tolist(),
    }


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed and pooled over all runs: CBO succeeds ≥ 90%, GD < 20%."""

    def checks(r):
        return (
            check(f"CBO success rate ({cfg.runs_per_seed} runs)", r["cbo_success"], ">=",
                  MIN_CBO_SUCCESS, prediction="→ 1 (global convergence)"),
            check(f"GD success rate ({cfg.runs_per_seed} runs)", r["gd_success"], "<",
                  MAX_GD_SUCCESS, prediction="≈ 0 (stuck in a local minimum)"),
        )

    done = [r for r in runs if r.status == "done"]
    cbo_all = [e < cfg.success_tol for r in done for e in r["cbo_errors"]]
    gd_all = [e < cfg.success_tol for r in done for e in r["gd_errors"]]
    pooled = []
    if cbo_all:
        pooled = [
            check(f"CBO success rate, all {len(cbo_all)} runs", float(np.mean(cbo_all)), ">=",
                  MIN_CBO_SUCCESS, prediction="→ 1"),
            check(f"GD success rate, all {len(gd_all)} runs", float(np.mean(gd_all)), "<",
                  MAX_GD_SUCCESS, prediction="≈ 0"),
        ]
    return Verdict.from_seeds(NAME, seed_results(runs, checks), pooled=pooled,
                              prediction="CBO's consensus reaches x* on Rastrigin; GD does not")


def figure(cfg: Config, runs: list[RunRecord]):
    """Consensus error along the run (per seed) and final errors of CBO vs GD."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    done = [r for r in runs if r.status == "done"]
    for r in done:
        steps, vals = r.series.get("consensus_error_median", ([], []))
        ax1.semilogy(steps, vals, alpha=0.7, label=f"seed {r.seed}")
    ax1.axhline(cfg.success_tol, color="k", ls="--", label="success threshold")
    ax1.set(xlabel="CBO step", ylabel="median ‖v_t − x*‖∞ over runs",
            title=f"CBO on Rastrigin, d = {cfg.d}, N = {cfg.n_particles}")
    ax1.legend(fontsize=7)
    cbo_e = [e for r in done for e in r["cbo_errors"]]
    gd_e = [e for r in done for e in r["gd_errors"]]
    bins = np.geomspace(1e-6, 10, 30)
    ax2.hist(np.clip(cbo_e, 1e-6, 10), bins=bins, alpha=0.6, label="CBO consensus")
    ax2.hist(np.clip(gd_e, 1e-6, 10), bins=bins, alpha=0.6, label="GD from the same start")
    ax2.axvline(cfg.success_tol, color="k", ls="--")
    ax2.set(xscale="log", xlabel="final ‖x − x*‖∞", ylabel="runs",
            title="Theory: CBO → x* (0); GD → nearest local minimum")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="Consensus-based optimization finds the global minimum of Rastrigin in d = 10 with "
          "200 particles; GD from the same starts gets stuck in local minima.",
    source="Riedl, Klock, Geldhauser, Fornasier 2023 (arXiv:2306.09778); seeds 000, 003",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"runs_per_seed": 20}},
    prediction="CBO success ≥ 90%; GD success ≈ 0",
    group="Optimizers from the seeds",
))

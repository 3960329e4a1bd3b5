"""Ridgeless regression shows double descent, peaking at the interpolation threshold.

Hastie, Montanari, Rosset & Tibshirani (Ann. Statist. 2022; arXiv 2019), Thm 1; Belkin,
Hsu, Ma & Mandal (PNAS 2019); seed 004 (random features, interpolation threshold).

Experiments, per seed:
1. Min-norm least squares ``β̂ = X⁺y`` on isotropic Gaussian features, ``y = x·β + ε``,
   ``‖β‖ = r``, noise ``σ``, for a grid of ``γ = p/n``. The excess test risk of ``β̂`` is
   exactly ``‖β̂ − β‖²`` for isotropic test points. It is averaged over ``draws`` design
   matrices and, for each, over ``noise_draws`` label-noise vectors (one least-squares solve
   with that many right-hand sides): the noise term alone has relative spread ``√(2/p)`` per
   draw, which at small ``p`` would swamp a 10% comparison. The mean is compared with
   `gdlab.theory.ridgeless_risk`.
2. GD from zero on ``½‖Xw − y‖²/n`` at ``γ = gd_gamma > 1`` converges to the min-norm
   interpolator: we compare norms (and report the distance).
3. Random ReLU features ``φ(x) = relu(Wx/√d)`` (``N`` features, ``n`` samples), ridgeless
   regression of a noisy linear teacher: the test error peaks where ``N ≈ n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gdlab.data import linear_teacher, relu_features
from gdlab.optim import gd
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.theory import min_norm_solution, ridgeless_risk
from gdlab.train import train

NAME = "double-descent-ridgeless"

# CATALOG.md thresholds. Finite-n corrections at n = 200 are ≤ 2% here (e.g. the variance
# term is σ²p/(n−p−1) instead of σ²γ/(1−γ)), well inside the 10% band.
MAX_REL_ERR = 0.10
AWAY_FROM_PEAK = 0.25  # compare with theory only where |γ − 1| > this
PEAK_BAND = (0.8, 1.25)
MIN_NORM_TOL = 0.01
RF_PEAK_BAND = (0.7, 1.4)


@dataclass(frozen=True)
class Config:
    """Quick sizes: n = 200 samples, 10 training draws per γ."""

    n: int = 200
    signal: float = 1.0  # r = ‖β‖
    noise: float = 0.5  # σ
    gammas: tuple[float, ...] = (0.1, 0.2, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1,
                                 1.2, 1.3, 1.5, 2.0, 3.0, 5.0)
    draws: int = 10
    noise_draws: int = 64
    gd_gamma: float = 2.0
    gd_steps: int = 2000
    rf_n: int = 100
    rf_d: int = 10
    rf_noise: float = 0.3
    rf_ratios: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0)
    rf_draws: int = 5
    rf_test: int = 2000

    def __post_init__(self):
        if self.n < 10 or self.rf_n < 10:
            raise ValueError("need n >= 10 and rf_n >= 10")
        if min(self.draws, self.noise_draws, self.rf_draws) < 1:
            raise ValueError("draws, noise_draws and rf_draws must be >= 1")
        if any(g <= 0 for g in self.gammas) or any(r <= 0 for r in self.rf_ratios):
            raise ValueError("gammas and rf_ratios must be positive")
        if self.gd_gamma <= 1:
            raise ValueError("gd_gamma must exceed 1 (the interpolating regime)")
        if self.noise < 0 or self.signal <= 0:
            raise ValueError("noise must be >= 0 and signal > 0")


def _risk_curve(cfg: Config, g: torch.Generator) -> list[float]:
    risks = []
    for gamma in cfg.gammas:
        p = max(1, round(gamma * cfg.n))
        vals = []
        for _ in range(cfg.draws):
            data = linear_teacher(cfg.n, p, signal=cfg.signal, noise=0.0, n_test=1,
                                  generator=g, dtype=torch.float64)
            beta = data.meta["beta"][:, None]  # (p, 1)
            eps = torch.randn(cfg.n, cfg.noise_draws, generator=g, dtype=torch.float64)
            y = data.x_train @ beta + cfg.noise * eps  # (n, noise_draws): one column per label draw
            beta_hat = min_norm_solution(data.x_train, y)  # (p, noise_draws)
            vals.append(float((beta_hat - beta).pow(2).sum(0).mean()))
        risks.append(float(np.mean(vals)))
    return risks


def _gd_min_norm(cfg: Config, g: torch.Generator, ctx: RunContext) -> dict:
    p = round(cfg.gd_gamma * cfg.n)
    data = linear_teacher(cfg.n, p, signal=cfg.signal, noise=cfg.noise, n_test=1, generator=g,
                          dtype=torch.float64)
    x, y = data.x_train, data.y_train
    lr = 1.0 / float(torch.linalg.eigvalsh(x @ x.T / cfg.n).max())  # stable: < 2/λ_max
    result = train(lambda q: 0.5 * (x @ q["w"] - y).pow(2).mean(), {"w": torch.zeros(p, dtype=torch.float64)},
                   gd(lr), cfg.gd_steps, log=lambda k, s, v: ctx.log(f"gd_{k}", s, v),
                   log_every=max(1, cfg.gd_steps // 100))
    result.raise_if_diverged()
    w_gd, w_mn = result.params["w"], min_norm_solution(x, y)
    return {
        "gd_norm_ratio": float(w_gd.norm() / w_mn.norm()),
        "gd_rel_distance": float((w_gd - w_mn).norm() / w_mn.norm()),
        "gd_final_loss": result.losses[-1],
    }


def _random_features(cfg: Config, g: torch.Generator) -> list[float]:
    errs = []
    for ratio in cfg.rf_ratios:
        n_feat = max(1, round(ratio * cfg.rf_n))
        vals = []
        for _ in range(cfg.rf_draws):
            data = linear_teacher(cfg.rf_n, cfg.rf_d, signal=1.0, noise=cfg.rf_noise,
                                  n_test=cfg.rf_test, generator=g, dtype=torch.float64)
            w = torch.randn(n_feat, cfg.rf_d, generator=g, dtype=torch.float64)
            a = min_norm_solution(relu_features(data.x_train, w), data.y_train)
            pred = relu_features(data.x_test, w) @ a
            vals.append(float((pred - data.y_test).pow(2).mean()))
        errs.append(float(np.mean(vals)))
    return errs


def run(cfg: Config, ctx: RunContext) -> dict:
    """Risk curve vs γ, GD vs min-norm at γ > 1, and the random-features test-error curve."""
    g = ctx.generator()
    risks = _risk_curve(cfg, g)
    for gamma, r in zip(cfg.gammas, risks, strict=True):
        ctx.log("excess_risk", round(1000 * gamma), r)  # step axis = 1000·γ
    out = {"gammas": list(cfg.gammas), "risk": risks}
    out |= _gd_min_norm(cfg, g, ctx)
    out["rf_ratios"] = list(cfg.rf_ratios)
    out["rf_test_mse"] = _random_features(cfg, g)
    return out


def _theory(cfg: Config, gamma: float) -> float:
    return ridgeless_risk(gamma, signal=cfg.signal, noise=cfg.noise)


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: risk within 10% of theory away from γ = 1; peak near 1; GD = min norm; RF peak."""
    def checks(r):
        gam = np.array(r["gammas"])
        risk = np.array(r["risk"])
        away = np.abs(gam - 1) > AWAY_FROM_PEAK
        theory = np.array([_theory(cfg, float(x)) for x in gam[away]])
        rel_err = float(np.max(np.abs(risk[away] - theory) / theory))
        peak = float(gam[int(np.argmax(risk))])
        rf_peak = float(np.array(r["rf_ratios"])[int(np.argmax(r["rf_test_mse"]))])
        return (
            check(f"max rel. error of risk vs theory, |γ−1| > {AWAY_FROM_PEAK}", rel_err, "<",
                  MAX_REL_ERR, prediction="σ²γ/(1−γ) | r²(1−1/γ) + σ²/(γ−1)"),
            check("γ at the peak of the risk", peak, "in", PEAK_BAND, prediction="1"),
            check(f"‖w_GD‖/‖X⁺y‖ − 1 at γ = {cfg.gd_gamma:g}", abs(r["gd_norm_ratio"] - 1), "<",
                  MIN_NORM_TOL, prediction="0 (GD from zero → min-norm)"),
            check("N/n at the random-features test-error peak", rf_peak, "in", RF_PEAK_BAND,
                  prediction="1 (interpolation threshold)"),
        )

    per_seed = seed_results(runs, checks)
    return Verdict.from_seeds(NAME, per_seed,
                              prediction="excess risk σ²γ/(1−γ) for γ<1, r²(1−1/γ)+σ²/(γ−1) for γ>1; "
                                         "peak at γ = 1")


def figure(cfg: Config, runs: list[RunRecord]):
    """Risk vs γ with the theory curve; random-features test error vs N/n."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    grid = np.concatenate([np.linspace(0.05, 0.97, 200), np.linspace(1.03, max(cfg.gammas), 300)])
    th = [_theory(cfg, float(x)) for x in grid]
    ax1.plot(grid[grid < 1], np.array(th)[grid < 1], "k-", lw=1.5, label="theory (HMRT 2019)")
    ax1.plot(grid[grid > 1], np.array(th)[grid > 1], "k-", lw=1.5)
    for r in runs:
        ax1.plot(r["gammas"], r["risk"], "o", ms=4, alpha=0.6, label=f"seed {r.seed}" if r.seed < 3 else None)
    ax1.axvspan(1 - AWAY_FROM_PEAK, 1 + AWAY_FROM_PEAK, color="grey", alpha=0.1, label="not compared")
    ax1.set_yscale("log")
    ax1.set_xscale("log")
    ax1.set(xlabel="γ = p / n", ylabel="excess test risk ‖β̂ − β‖²",
            title=f"Min-norm least squares, n={cfg.n}, r={cfg.signal}, σ={cfg.noise}")
    ax1.legend(fontsize=7)
    for r in runs:
        ax2.plot(r["rf_ratios"], r["rf_test_mse"], "o-", ms=3, alpha=0.6)
    ax2.axvline(1.0, color="k", ls="--", label="N = n")
    ax2.set_yscale("log")
    ax2.set_xscale("log")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax2.set_xticks([0.2, 0.5, 1, 2, 5])
    ax2.xaxis.set_major_formatter(ScalarFormatter())
    ax2.xaxis.set_minor_formatter(NullFormatter())
    ax2.set(xlabel="features / samples  N/n", ylabel="test MSE",
            title=f"Random ReLU features, n={cfg.rf_n}, d={cfg.rf_d}")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="The test risk of minimum-norm least squares follows the double-descent curve of "
          "Hastie et al., diverging at p = n; GD from zero finds the minimum-norm solution; "
          "random-features regression peaks at N ≈ n.",
    source="Hastie, Montanari, Rosset & Tibshirani 2019, Thm 1; Belkin et al. 2019; seed 004",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"n": 1000, "draws": 20, "rf_n": 400, "rf_draws": 10}},
    prediction="excess risk σ²γ/(1−γ) (γ<1), r²(1−1/γ)+σ²/(γ−1) (γ>1); peak at γ = 1",
    group="Implicit bias and large steps",
))

"""In the lazy regime GD fits kernel eigendirections at rates ηλ_i/n: low frequencies first.

Jacot, Gabriel & Hongler 2018 (§5: convergence along the kernel's principal components);
Rahaman et al., "On the Spectral Bias of Neural Networks", ICML 2019; Xu et al., "Frequency
Principle" 2019 (seed 004).

Experiment (CATALOG.md): ``n`` equally spaced points on the unit circle, ``x_i = (cos θ_i,
sin θ_i)``, with a random rotation per seed, and the target ``y = Σ_k sin(k θ + φ_k)`` over
``frequencies``. A wide ReLU MLP (NTK parametrization) is trained by full-batch GD on gdlab's
``mse``. Its analytic NTK on these points is circulant, so its eigenvectors are Fourier modes
whose eigenvalues fall with frequency. Linearized GD predicts the residual ``r_t = f_t − y``
along eigenvector ``v_i`` of the NTK to decay as ``(1 − ηλ_i/n)^t``: we fit the measured
per-step rate ``−Δ log|v_iᵀ r_t|`` of the top ``modes`` eigendirections and compare it with
``−log(1 − ηλ_i/n)``, and we record for each target frequency the first step at which its
component of the residual has fallen by 90%.

Which kernel and which directions: the analytic kernel is circulant, so its eigenvalues come
in degenerate pairs (``sin kθ``, ``cos kθ``) and a single "eigendirection" inside a pair is not
defined; the O(width^-1/2) fluctuation of the net's kernel splits and rotates each pair. We
therefore group the top ``modes`` eigenvectors of the net's own NTK at initialization ``Θ_0``
(`gdlab.probes.empirical_ntk`, the kernel that drives the lazy dynamics) into the analytic
kernel's eigenspaces, measure the decay rate of the norm of the residual's projection onto
each group, and predict it from the group's mean ``Θ_0`` eigenvalue. Two variants are kept as
diagnostics (``single_*``: one Θ_0 eigenvector at a time; ``analytic_*``: analytic eigenvectors
and eigenvalues one at a time). In a first run of 5 seeds at width 1024 those per-vector
variants exceeded the 10% band in 4/5 (analytic) and 4/5 (Θ_0) seeds, mostly inside the
near-degenerate pairs (errors up to 0.37 and 0.71). The low-frequency-first check uses the
target's sinusoids, the analytic kernel's eigenvectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from gdlab import optim
from gdlab.core import functionalize
from gdlab.phenomena._ntk import relu_ntk, relu_ntk_mlp
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.probes import empirical_ntk
from gdlab.train import mse, train

NAME = "kernel-eigen-rates"

# CATALOG.md: measured rates of the top 5 eigendirections within 10% of prediction at width ≥ 1024.
RATE_TOL = 0.10
# CATALOG.md: time to 90% fit strictly increasing with frequency in every seed.
FIT_FRACTION = 0.9
# A component is fitted on the steps before it has fallen to this fraction of its start: below
# it, leakage from slower modes through the O(width^-1/2) kernel perturbation dominates.
RATE_WINDOW_FLOOR = 0.05
MIN_WINDOW = 3  # steps needed for a rate fit
DEGENERACY_RTOL = (
    1e-6  # analytic eigenvalues this close are one eigenspace (they are equal up to rounding)
)


@dataclass(frozen=True)
class Config:
    """Quick size: width 1024, 64 points, frequencies 1, 2, 4."""

    n: int = 64
    width: int = 1024
    hidden_layers: int = 2
    w_std: float = 1.0
    b_std: float = 0.1
    frequencies: tuple[int, ...] = (1, 2, 4)
    modes: int = 5
    lr_fraction: float = 0.3  # η λ_max / n: the fastest mode decays by 0.7 per step
    steps: int = 600

    def __post_init__(self):
        if self.n < 4 or self.width < 1 or self.hidden_layers < 1:
            raise ValueError("need n >= 4, width >= 1 and hidden_layers >= 1")
        if list(self.frequencies) != sorted(set(self.frequencies)) or min(self.frequencies) < 1:
            raise ValueError("frequencies must be strictly increasing positive integers")
        if 2 * max(self.frequencies) >= self.n:
            raise ValueError("the highest frequency must be below n/2 (Nyquist)")
        if not 1 <= self.modes <= self.n:
            raise ValueError("need 1 <= modes <= n")
        if not 0 < self.lr_fraction < 2:
            raise ValueError("lr_fraction = ηλ_max/n must lie in (0, 2) for GD to converge")
        if self.steps < MIN_WINDOW:
            raise ValueError(f"steps must be >= {MIN_WINDOW}")


def decay_rate(component: np.ndarray) -> tuple[float, int]:
    """Per-step rate ``−slope`` of ``log|c_t|`` fitted while ``|c_t| ≥ floor·|c_0|``.

    Returns ``(rate, points used)``; ``nan`` when fewer than `MIN_WINDOW` steps qualify.
    """
    mag = np.abs(component)
    below = np.nonzero(mag < RATE_WINDOW_FLOOR * mag[0])[0]
    end = int(below[0]) if below.size else mag.size
    if end < MIN_WINDOW or mag[0] == 0:
        return math.nan, end
    slope = np.polyfit(np.arange(end), np.log(mag[:end]), 1)[0]
    return float(-slope), end


def time_to_fit(component: np.ndarray) -> int:
    """First step at which ``|c_t| ≤ (1 − FIT_FRACTION)|c_0|`` (``len`` if never)."""
    left = round(1 - FIT_FRACTION, 12)  # 0.1, not 0.09999999999999998
    hit = np.nonzero(np.abs(component) <= left * abs(component[0]))[0]
    return int(hit[0]) if hit.size else len(component)


def _top_eigen(kernel: torch.Tensor, modes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Largest ``modes`` eigenpairs, largest first."""
    lam, vecs = torch.linalg.eigh(kernel)
    return lam.flip(0)[:modes], vecs.flip(1)[:, :modes]


def _rates(r: torch.Tensor, lam: torch.Tensor, vecs: torch.Tensor, lr: float, n: int):
    """Predicted and measured rates of the residual ``r: (T+1, n)`` along ``vecs``."""
    comp = (r @ vecs).cpu().numpy()  # (T+1, modes)
    predicted = [-math.log(1 - lr * float(v) / n) for v in lam]
    measured, used = zip(*(decay_rate(comp[:, i]) for i in range(comp.shape[1])), strict=True)
    rel_err = [abs(m - p) / p for m, p in zip(measured, predicted, strict=True)]
    return predicted, list(measured), list(used), rel_err


def eigenspaces(lam: torch.Tensor, rtol: float = DEGENERACY_RTOL) -> list[list[int]]:
    """Indices of (numerically) equal eigenvalues, grouped: ``[[0], [1, 2], [3, 4]]``."""
    groups: list[list[int]] = []
    for i, v in enumerate(lam.tolist()):
        if groups and abs(v - lam[groups[-1][0]].item()) <= rtol * abs(v):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _group_rates(r, lam, vecs, groups, lr, n):
    """Rates of ``‖P_S r_t‖`` per eigenvector group ``S``, predicted from its mean eigenvalue."""
    predicted, measured, used = [], [], []
    for g in groups:
        norm = (r @ vecs[:, g]).norm(dim=1).cpu().numpy()
        predicted.append(-math.log(1 - lr * float(lam[g].mean()) / n))
        m, u = decay_rate(norm)
        measured.append(m)
        used.append(u)
    rel_err = [abs(m - p) / p for m, p in zip(measured, predicted, strict=True)]
    return predicted, measured, used, rel_err


def _max_finite(errors: list[float]) -> float:
    return max(errors) if all(math.isfinite(e) for e in errors) else math.inf


def run(cfg: Config, ctx: RunContext) -> dict:
    """Train once; project the residual on kernel eigenvectors and on the target's sinusoids."""
    gen = ctx.generator()
    phase0 = 2 * math.pi * float(torch.rand(1, generator=gen))
    theta = phase0 + 2 * math.pi * torch.arange(cfg.n, dtype=torch.float64) / cfg.n
    x = torch.stack([torch.cos(theta), torch.sin(theta)], dim=1).to(ctx.device)
    phases = 2 * math.pi * torch.rand(len(cfg.frequencies), generator=gen, dtype=torch.float64)
    waves = torch.stack(
        [torch.sin(k * theta + p) for k, p in zip(cfg.frequencies, phases, strict=True)], 1
    )
    y = waves.sum(1, keepdim=True).to(ctx.device)  # (n, 1)
    waves = (waves / waves.norm(dim=0)).to(ctx.device)  # unit-norm sinusoids, (n, F)
    kernel = relu_ntk(x, cfg.hidden_layers, w_std=cfg.w_std, b_std=cfg.b_std)
    net = relu_ntk_mlp(2, cfg.width, cfg.hidden_layers, w_std=cfg.w_std, b_std=cfg.b_std,
                       generator=gen, device=ctx.device)
    lam, vecs = _top_eigen(empirical_ntk(net, x), cfg.modes)  # Θ_0: the kernel of the lazy dynamics
    lam_inf, vecs_inf = _top_eigen(kernel, cfg.modes)
    groups = eigenspaces(lam_inf)
    lr = cfg.lr_fraction * cfg.n / float(lam_inf[0])
    f, p0 = functionalize(net)
    residuals: list[torch.Tensor] = []

    def record(step, params):
        with torch.no_grad():
            residuals.append((f(params, x) - y)[:, 0])

    train(
        lambda p: mse(f(p, x), y),
        p0,
        optim.sgd(lr),
        cfg.steps,
        probes=[(1, record)],
        progress=lambda n: ctx.trange(n, desc=NAME),
    ).raise_if_diverged()
    r = torch.stack(residuals)  # (T+1, n)
    predicted, measured, used, rel_err = _group_rates(r, lam, vecs, groups, lr, cfg.n)
    _, _, _, rel_err_single = _rates(r, lam, vecs, lr, cfg.n)
    _, _, _, rel_err_inf = _rates(r, lam_inf, vecs_inf, lr, cfg.n)
    wave_comp = (r @ waves).cpu().numpy()  # (T+1, F)
    t_fit = [time_to_fit(wave_comp[:, j]) for j in range(len(cfg.frequencies))]
    for j, k in enumerate(cfg.frequencies):
        for t in range(0, cfg.steps + 1, max(1, cfg.steps // 100)):
            ctx.log(f"residual_freq{k}", t, float(wave_comp[t, j]))
    return {
        "eigenvalues": [float(v) for v in lam],
        "lr": lr,
        "predicted_rates": predicted,
        "measured_rates": measured,
        "rate_points": used,
        "rate_rel_err": rel_err,
        "max_rate_rel_err": _max_finite(rel_err),
        "groups": groups,
        "analytic_eigenvalues": [float(v) for v in lam_inf],
        "single_rate_rel_err": rel_err_single,
        "single_max_rate_rel_err": _max_finite(rel_err_single),
        "analytic_rate_rel_err": rel_err_inf,
        "analytic_max_rate_rel_err": _max_finite(rel_err_inf),
        "frequencies": list(cfg.frequencies),
        "time_to_fit": t_fit,
        "order_violations": sum(int(b <= a) for a, b in zip(t_fit, t_fit[1:], strict=False)),
        "wave_eigenvalues": [
            float(waves[:, j] @ kernel @ waves[:, j]) for j in range(len(cfg.frequencies))
        ],
        "wave_start": [float(wave_comp[0, j]) for j in range(len(cfg.frequencies))],
    }


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: top-mode rates within 10% and low frequencies fitted first."""

    def checks(r):
        return (
            check(f"max rel. error of the rates of the top-{cfg.modes} eigenspaces",
                  r["max_rate_rel_err"], "<=", RATE_TOL, prediction="rate_i = −log(1 − ηλ_i/n)"),
            check("frequencies fitted out of order (time to 90%)", r["order_violations"], "==", 0,
                  prediction="strictly increasing with frequency"),
        )

    return Verdict.from_seeds(
        NAME, seed_results(runs, checks),
        prediction="residual along v_i ∝ (1 − ηλ_i/n)^t; low frequencies first")


def figure(cfg: Config, runs: list[RunRecord]):
    """Left: each frequency's residual, net vs kernel; right: measured vs predicted rates."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    done = [r for r in runs if r.status == "done"]
    if done:
        r0 = done[0]
        floor = np.inf
        for j, k in enumerate(cfg.frequencies):
            steps, vals = r0.series[f"residual_freq{k}"]
            measured = np.abs(vals)
            floor = min(floor, float(measured[measured > 0].min(initial=np.inf)))
            ax1.semilogy(steps, measured, "o", ms=3, color=f"C{j}", label=f"net, frequency {k}")
            # Kernel prediction: the sinusoid is an eigenvector of the circulant analytic NTK.
            rate = r0["lr"] * r0["wave_eigenvalues"][j] / cfg.n
            t = np.asarray(steps, float)
            ax1.semilogy(t, abs(r0["wave_start"][j]) * np.abs(1 - rate) ** t, "-", color=f"C{j}",
                         label="kernel GD" if j == 0 else None)
        if np.isfinite(floor):  # the kernel curves fall far below the net's noise floor
            ax1.set_ylim(bottom=floor / 10)
        for r in done:
            ax2.loglog(
                r["predicted_rates"], r["measured_rates"], "o", alpha=0.6, label=f"seed {r.seed}"
            )
        lo = min(min(r["predicted_rates"]) for r in done)
        hi = max(max(r["predicted_rates"]) for r in done)
        grid = np.array([lo, hi])
        ax2.loglog(grid, grid, "k--", label="theory: measured = predicted")
        ax2.fill_between(
            grid, grid * (1 - RATE_TOL), grid * (1 + RATE_TOL), color="grey", alpha=0.2
        )
    ax1.set(
        xlabel="GD step",
        ylabel="|residual along sin(kθ)|",
        title="Low frequencies are fitted first",
    )
    ax1.legend(fontsize=7)
    ax2.set(
        xlabel="predicted rate −log(1 − ηλ_i/n)",
        ylabel="measured rate",
        title="Top kernel eigendirections",
    )
    ax2.xaxis.set_minor_formatter(NullFormatter())  # minor log labels collide
    ax2.yaxis.set_minor_formatter(NullFormatter())
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(
    Phenomenon(
        name=NAME,
        claim="In the lazy regime the residual along NTK eigenvector i decays as "
        "(1 − ηλ_i/n)^t, so "
        "a sum of sinusoids is fitted low frequency first.",
        source="Jacot et al. 2018 (§5); Rahaman et al. 2019 (ICML); Xu et al. 2019 "
        "(frequency principle); seed 004",
        Config=Config,
        run=run,
        verdict=verdict,
        figure=figure,
        presets={"full": {"n": 128, "width": 4096, "frequencies": (1, 2, 4, 8), "steps": 3000}},
        prediction="top-5 eigenspace rates within 10% of −log(1 − ηλ_i/n); time to 90% fit "
        "increases with frequency",
        group="Kernels and the infinite-width limit",
    )
)

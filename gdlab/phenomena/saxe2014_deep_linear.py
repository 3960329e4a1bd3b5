"""From small init, a deep linear net learns the target's singular modes one at a time.

Saxe, McClelland & Ganguli, "Exact solutions to the nonlinear dynamics of learning in deep
linear neural networks", ICLR 2014; also Arora, Cohen et al. and Bah, Rauhut et al. (seed 004).

Experiment: a linear net ``x ↦ W_2 W_1 x`` (one hidden layer of width ``hidden``, no biases)
from i.i.d. ``N(0, init_std²)`` weights, trained by full-batch GD on the ½-mean-squared error
with whitened inputs (``x_i = √d e_i``, so the loss is ``½‖W_2 W_1 − M‖_F²``) to a target
``M = U diag(s) Vᵀ`` with distinct singular values. We track each mode's strength
``u_α(t) = u_αᵀ W_2 W_1 v_α`` (`gdlab.probes.modes`) against time ``t = lr · step``.

Theory (Saxe et al. 2014): each mode follows a sigmoid from ``u_α(0)`` to ``s_α`` whose
half-rise time is ``t_α = ln(s_α/u_α(0) − 1) / (2 s_α)``: stronger modes are learned first,
with plateaus between. For a random init the effective ``u_α(0)`` is the part of the init
that grows along the mode, ``‖W_1 v_α + W_2ᵀ u_α‖²/4`` (`modes.effective_initial_strength`).
We measure the half-rise times and compare the ratios ``t_α/t_1`` with the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gdlab.core import functionalize
from gdlab.models import deep_linear
from gdlab.optim import gd
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.probes import modes
from gdlab.train import mse, train

NAME = "deep-linear-incremental"

# CATALOG.md: "learning order matches singular-value order in every seed" — counted as the
# number of mode pairs learned in the wrong order, which must be 0.
MAX_INVERSIONS = 0
# CATALOG.md: "learning-time ratios within 25% of the prediction". The decoupled-mode theory
# has O(1/√hidden) cross-mode corrections and O(lr·s) Euler error; at the quick size the
# measured ratios agree to ~2%, so 25% is a loose bound that a wrong time scale (e.g. t ∝ 1/s²
# or a missing log term) still fails.
MAX_RATIO_ERROR = 0.25
HALF = 0.5  # a mode is "learned" when it reaches half its target strength


@dataclass(frozen=True)
class Config:
    """Quick preset: 4 modes, one hidden layer of 64 units, 1000 GD steps (< 2 s)."""

    d: int = 8
    hidden: int = 64
    singular_values: tuple[float, ...] = (3.0, 2.0, 1.0, 0.5)
    init_std: float = 1e-3
    lr: float = 0.02
    time: float = 20.0  # training time t = lr · steps; ≥ ~2× the slowest predicted t_α
    record_every: int = 2

    def __post_init__(self):
        s = self.singular_values
        if len(s) < 2:
            raise ValueError("need at least two singular values to compare learning times")
        if any(b >= a for a, b in zip(s, s[1:], strict=False)) or min(s) <= 0:
            raise ValueError(f"singular_values must be positive and strictly decreasing, got {s}")
        if len(s) > self.d:
            raise ValueError(f"at most d={self.d} singular values, got {len(s)}")
        if self.hidden < len(s):
            raise ValueError(f"hidden={self.hidden} cannot hold {len(s)} modes")
        if not (self.init_std > 0 and self.lr > 0 and self.time > 0):
            raise ValueError("init_std, lr and time must be positive")
        if self.lr * max(s) >= 1:
            raise ValueError("lr·s_max must be < 1 for GD to track the gradient flow")
        if self.record_every < 1:
            raise ValueError("record_every must be >= 1")

    @property
    def steps(self) -> int:
        """Number of GD steps: ``time / lr``."""
        return int(round(self.time / self.lr))


def target_modes(cfg: Config, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random orthonormal output and input modes ``U, V: (d, K)`` (float64)."""
    k = len(cfg.singular_values)
    qu, _ = torch.linalg.qr(torch.randn(cfg.d, cfg.d, generator=g, dtype=torch.float64))
    qv, _ = torch.linalg.qr(torch.randn(cfg.d, cfg.d, generator=g, dtype=torch.float64))
    return qu[:, :k], qv[:, :k]


def run(cfg: Config, ctx: RunContext) -> dict:
    """GD on ½‖W_2W_1 − M‖² from small random init; half-rise time of every mode."""
    s = torch.tensor(cfg.singular_values, dtype=torch.float64)
    u, v = target_modes(cfg, ctx.generator(0))
    m = u @ torch.diag(s) @ v.T
    x = cfg.d**0.5 * torch.eye(cfg.d, dtype=torch.float64)  # whitened: XᵀX/n = I
    y = x @ m.T
    net = deep_linear((cfg.d, cfg.hidden, cfg.d), init_std=cfg.init_std,
                      generator=ctx.generator(1)).double()
    f, params = functionalize(net)
    u0 = modes.effective_initial_strength(params["layers.0.weight"], params["layers.1.weight"],
                                          u, v).numpy()
    if np.any(u0 >= HALF * s.numpy()):
        raise ValueError("init_std too large: a mode starts above half its target")
    x, y, u, v = (t.to(ctx.device) for t in (x, y, u, v))
    params = {k: p.to(ctx.device) for k, p in params.items()}
    steps_rec, strengths = [], []

    def probe(step, p):
        w = p["layers.1.weight"] @ p["layers.0.weight"]
        st = modes.mode_strengths(w, u, v).cpu().numpy()
        steps_rec.append(step)
        strengths.append(st)
        for a, val in enumerate(st):
            ctx.log(f"mode{a}", step, float(val))

    result = train(lambda p: mse(f(p, x), y), params, gd(cfg.lr), cfg.steps,
                   probes=[(cfg.record_every, probe)], progress=lambda n: ctx.trange(n, NAME))
    result.raise_if_diverged()
    times = cfg.lr * np.asarray(steps_rec, dtype=float)
    t_meas = modes.crossing_times(times, np.asarray(strengths), HALF * s.numpy())
    t_pred = modes.saxe_learning_time(s.numpy(), u0, frac=HALF)
    return {
        "s": s.tolist(),
        "u0": u0.tolist(),
        "t_measured": t_meas.tolist(),
        "t_predicted": t_pred.tolist(),
        "ratio_measured": (t_meas / t_meas[0]).tolist(),
        "ratio_predicted": (t_pred / t_pred[0]).tolist(),
        "final_strength": strengths[-1].tolist(),
    }


def inversions(times: list[float]) -> float:
    """Pairs ``α < β`` (``s_α > s_β``) with ``t_α ≥ t_β``; NaN when a mode was never learned."""
    t = np.asarray(times, dtype=float)
    if not np.all(np.isfinite(t)):
        return float("nan")
    return float(sum(t[a] >= t[b] for a in range(len(t)) for b in range(a + 1, len(t))))


def ratio_error(r: RunRecord) -> float:
    """``max_α |(t_α/t_1)_measured / (t_α/t_1)_predicted − 1|`` over the slower modes."""
    meas, pred = np.asarray(r["ratio_measured"][1:]), np.asarray(r["ratio_predicted"][1:])
    return float(np.max(np.abs(meas / pred - 1)))


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: modes learned in singular-value order, and time ratios within 25%."""

    def checks(r):
        return (
            check("mode pairs learned out of order", inversions(r["t_measured"]), "<=",
                  MAX_INVERSIONS, prediction="0: largest singular value first"),
            check("max rel. error of t_α/t_1 vs Saxe", ratio_error(r), "<", MAX_RATIO_ERROR,
                  prediction="t_α = ln(s_α/u_α(0) − 1)/(2 s_α)"),
        )

    return Verdict.from_seeds(NAME, seed_results(runs, checks),
                              prediction="modes learned one at a time in order of s_α, at "
                                         "t_α = ln(s_α/u_α(0) − 1)/(2 s_α)")


def figure(cfg: Config, runs: list[RunRecord]):
    """Mode strengths against time with Saxe's sigmoids; measured vs predicted times."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.85, len(cfg.singular_values)))
    done = [r for r in runs if "mode0" in r.series]
    for i, r in enumerate(done):
        for a, s in enumerate(cfg.singular_values):
            steps, vals = r.series[f"mode{a}"]
            t = cfg.lr * np.asarray(steps, dtype=float)
            label = f"s={s:g}" if i == 0 else None
            ax1.plot(t, np.asarray(vals) / s, color=colors[a], alpha=0.6, lw=1, label=label)
            if i == 0:
                ax1.plot(t, modes.saxe_strength(t, s, r["u0"][a]) / s, "k--", lw=0.8,
                         label="Saxe et al. (theory)" if a == 0 else None)
    ax1.axhline(HALF, color="grey", lw=0.5)
    ax1.set(xlabel="time t = lr · step", ylabel="u_α(t) / s_α",
            title="Singular modes are learned one at a time")
    ax1.legend(fontsize=7)
    for r in done:
        ax2.scatter(r["t_predicted"], r["t_measured"], c=colors, s=18)
    if done:
        top = max(max(r["t_predicted"]) for r in done) * 1.1
        ax2.plot([0, top], [0, top], "k--", lw=0.8, label="measured = predicted")
    ax2.set(xlabel="predicted half-rise time t_α", ylabel="measured t_α",
            title="Learning times (all seeds)")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="From small initialization a deep linear network learns the target's singular modes "
          "one at a time, largest first, with plateaus between.",
    source="Saxe, McClelland & Ganguli 2014 (ICLR); Arora, Cohen et al.; Bah, Rauhut et al.; "
           "seed 004",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"d": 16, "hidden": 256, "singular_values": (4.0, 3.0, 2.0, 1.0, 0.5),
                      "init_std": 1e-4, "lr": 0.01, "time": 30.0, "record_every": 5}},
    prediction="order of learning = order of singular values; t_α = ln(s_α/u_α(0) − 1)/(2s_α)",
    group="Implicit bias and large steps",
))

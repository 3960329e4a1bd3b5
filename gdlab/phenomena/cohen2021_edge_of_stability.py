"""Full-batch GD trains at the edge of stability: the sharpness rises to 2/η and stays there.

Cohen, Kaur, Li, Kolter & Talwalkar, "Gradient Descent on Neural Networks Typically Occurs at
the Edge of Stability", ICLR 2021 (Sections 3-4); seeds 001 ('dynamical stability of SGD') and
004 ('large learning rates').

Claim: on a quadratic, GD with step ``η`` diverges once the top Hessian eigenvalue (the
sharpness) exceeds ``2/η``. On neural networks the sharpness instead rises during training
(progressive sharpening) until it reaches ``2/η`` and then hovers there, while the loss keeps
falling over long times, non-monotonically.

Experiment: an MLP (tanh, SP) on a subset of MNIST-1D with one-hot targets and gdlab's `mse`
(``½·mean_i‖f(x_i) − y_i‖²``, as in Cohen et al.), full-batch GD at three step sizes from the
same initialization. The sharpness ``λ_1(∇²L)`` is tracked every ``probe_every`` steps by
Lanczos warm-started from the previous eigenvector (`SharpnessProbe`). The output is scaled by
``out_scale = 0.2`` so that the initial sharpness (≈0.5) lies well below every ``2/η``: the
claim is about the *rise* to ``2/η``, which needs room to rise. Measured at the quick size
before the thresholds were read (3 seeds, 1200 steps): 2/η is first crossed after 90-590
steps, and the median over the last 30% sits at 1.00-1.05 × 2/η.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from gdlab.core import functionalize
from gdlab.data import digits, mnist1d
from gdlab.errors import Diverged
from gdlab.models import MLP
from gdlab.optim import gd
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.probes.curvature import SharpnessProbe
from gdlab.train import mse, train

NAME = "edge-of-stability"

# CATALOG.md: median sharpness over the last 30% of steps in [0.85, 1.15]·2/η for each η ...
BAND = (0.85, 1.15)
TAIL = 0.3
# ... and the final loss below half the initial one.
MAX_LOSS_RATIO = 0.5
# "Rises to 2/η": the initial sharpness must start below the band, else there is no rise to see.
MAX_INITIAL_RATIO = BAND[0]


@dataclass(frozen=True)
class Config:
    """Quick sizes: 500 MNIST-1D points, MLP 40-64-64-10, 1200 steps at η ∈ {0.8, 1.2, 1.8}."""

    dataset: str = "mnist1d"  # or "digits"
    n: int = 500
    widths: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    out_scale: float = 0.2
    lrs: tuple[float, ...] = (0.8, 1.2, 1.8)
    steps: int = 1200
    probe_every: int = 10
    sharpness_tol: float = 1e-3  # Lanczos tolerance: 0.1%, far inside the ±15% band
    loss_every: int = 5

    def __post_init__(self):
        if self.dataset not in ("mnist1d", "digits"):
            raise ValueError(f"dataset must be 'mnist1d' or 'digits', got {self.dataset!r}")
        if self.n < 10 or not self.widths or min(self.widths) < 1:
            raise ValueError("need n >= 10 and positive widths")
        if not self.lrs or min(self.lrs) <= 0:
            raise ValueError("lrs must be positive")
        if self.steps < 10 or not 1 <= self.probe_every <= self.steps:
            raise ValueError("need steps >= 10 and 1 <= probe_every <= steps")
        if self.out_scale <= 0 or self.sharpness_tol <= 0 or self.loss_every < 1:
            raise ValueError("out_scale, sharpness_tol and loss_every must be positive")


def _data(cfg: Config, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    loader = mnist1d if cfg.dataset == "mnist1d" else digits
    ds = loader(cfg.n, 100, seed=seed, dtype=torch.float32)
    return ds.x_train, F.one_hot(ds.y_train, 10).to(torch.float32)


def run(cfg: Config, ctx: RunContext) -> dict:
    """Full-batch GD at each η from one initialization; sharpness and loss along the way."""
    x, y = _data(cfg, ctx.seed)
    x, y = x.to(ctx.device), y.to(ctx.device)
    net = MLP(x.shape[1], cfg.widths, 10, activation=cfg.activation, out_scale=cfg.out_scale,
              generator=ctx.generator(0)).to(ctx.device)
    f, params = functionalize(net)

    def loss(p):
        return mse(f(p, x), y)

    out: dict[str, list] = {k: [] for k in ("initial_sharpness", "tail_sharpness", "ratio",
                                           "first_cross_step", "initial_loss", "final_loss",
                                           "loss_increases", "hvps_per_probe")}
    for i, lr in enumerate(cfg.lrs):
        probe = SharpnessProbe(f, mse, x, y, tol=cfg.sharpness_tol, generator=ctx.generator(1 + i))

        def log(name, step, value, i=i):
            if name == "sharpness":
                ctx.log(f"sharpness_{i}", step, value)
            elif name == "loss" and step % cfg.loss_every == 0:
                ctx.log(f"loss_{i}", step, value)

        res = train(loss, params, gd(lr), cfg.steps, probes=[(cfg.probe_every, probe)], log=log,
                    progress=lambda n, i=i: ctx.trange(n, desc=f"{NAME} η={cfg.lrs[i]:g}"))
        if res.diverged:
            raise Diverged(f"GD at η={lr:g} diverged: {res.reason}", step=res.steps,
                           last_finite={"loss": res.losses[-1] if res.losses else float("nan")})
        steps, lam = map(np.asarray, res.probe_series("sharpness"))
        tail = lam[steps >= (1 - TAIL) * cfg.steps]
        crossed = np.nonzero(lam >= 2 / lr)[0]
        losses = np.asarray(res.losses)
        start = int(steps[crossed[0]]) if crossed.size else cfg.steps
        out["initial_sharpness"].append(float(lam[0]))
        out["tail_sharpness"].append(float(np.median(tail)))
        out["ratio"].append(float(np.median(tail) * lr / 2))
        out["first_cross_step"].append(int(steps[crossed[0]]) if crossed.size else -1)
        out["initial_loss"].append(float(losses[0]))
        out["final_loss"].append(float(loss(res.params)))
        # Non-monotone descent at the edge: steps, after the first crossing, where the loss rose.
        out["loss_increases"].append(int((np.diff(losses[start:]) > 0).sum()))
        out["hvps_per_probe"].append(probe.total_matvecs / len(lam))
    return out


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed and η: tail sharpness in [0.85, 1.15]·2/η, started below, loss at least halved."""

    def checks(r):
        out = []
        for i, lr in enumerate(cfg.lrs):
            out += [
                check(f"η={lr:g}: median sharpness, last 30% / (2/η)", r["ratio"][i], "in", BAND,
                      prediction="1 (sharpness hovers at 2/η)"),
                check(f"η={lr:g}: initial sharpness / (2/η)", r["initial_sharpness"][i] * lr / 2,
                      "<", MAX_INITIAL_RATIO, prediction="< 1 (room for progressive sharpening)"),
                check(f"η={lr:g}: final / initial loss", r["final_loss"][i] / r["initial_loss"][i],
                      "<", MAX_LOSS_RATIO, prediction="loss keeps falling"),
            ]
        return out

    return Verdict.from_seeds(
        NAME, seed_results(runs, checks),
        prediction="sharpness rises to 2/η and hovers there; loss keeps falling")


def figure(cfg: Config, runs: list[RunRecord]):
    """Sharpness against step with the 2/η lines (theory), and the loss, for each η."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, lr in enumerate(cfg.lrs):
        c = colors[i % len(colors)]
        for j, r in enumerate(runs):
            if f"sharpness_{i}" not in r.series:
                continue
            s, lam = r.series[f"sharpness_{i}"]
            ax1.plot(s, lam, color=c, alpha=0.9 if j == 0 else 0.25, lw=1,
                     label=f"η={lr:g}" if j == 0 else None)
            ls, lv = r.series.get(f"loss_{i}", ([], []))
            ax2.semilogy(ls, lv, color=c, alpha=0.9 if j == 0 else 0.25, lw=1,
                         label=f"η={lr:g}" if j == 0 else None)
        ax1.axhline(2 / lr, color=c, ls="--", lw=1)
        ax1.axhspan(BAND[0] * 2 / lr, BAND[1] * 2 / lr, color=c, alpha=0.06)
    ax1.axvline((1 - TAIL) * cfg.steps, color="grey", lw=0.6)
    ax1.set(xlabel="GD step", ylabel="sharpness λ₁(∇²L)",
            title="Sharpness rises to 2/η (dashed: theory) and stays")
    ax1.legend(fontsize=8)
    ax2.set(xlabel="GD step", ylabel="training loss (MSE)",
            title="Loss keeps falling, non-monotonically")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="Full-batch GD on a neural network raises the sharpness to 2/η and hovers there "
          "while the loss keeps falling non-monotonically.",
    source="Cohen et al., ICLR 2021, Sections 3-4; seeds 001, 004",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"n": 2000, "widths": (128, 128), "lrs": (0.4, 0.8, 1.6), "steps": 5000}},
    prediction="median sharpness over the last 30% of steps = 2/η for each η",
    group="Curvature and stability",
))

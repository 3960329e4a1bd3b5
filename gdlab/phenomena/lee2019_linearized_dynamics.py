"""A wide net trained by GD on MSE follows kernel gradient descent with its NTK.

Jacot, Gabriel & Hongler 2018 (§5); Lee et al., "Wide Neural Networks of Any Depth Evolve as
Linear Models Under Gradient Descent", NeurIPS 2019 (Eq. 9-11, Thm 2.1).

Experiment (CATALOG.md): ReLU MLPs (2 hidden layers, NTK parametrization) on points on the
sphere in d = 10, trained by full-batch GD (`gdlab.optim.sgd`) on gdlab's ``mse`` (½ mean
squared error), with a learning rate that is a fixed fraction of the analytic stability edge.
The prediction is kernel GD with the analytic infinite-width NTK ``Θ`` started from the net's
own outputs at init (`gdlab.kernels.gd_predict`):

.. math:: f_t(X) = f_0(X) + (I − (I − ηΘ/n)^t)(y − f_0(X)),\\quad
          f_t(x_*) = f_0(x_*) + Θ(x_*, X) Θ^{-1} (I − (I − ηΘ/n)^t)(y − f_0(X)).

We record the net on train and test points at checkpoints along training and measure the
relative RMS gap ``RMS_t,i(f_net − f_pred) / RMS_t,i(f_net − f_0)``. Prediction: the gap is
O(width^-1/2) (kernel fluctuation at init plus kernel drift), on train and on test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gdlab import optim
from gdlab.core import functionalize
from gdlab.data import sphere
from gdlab.kernels import gd_predict, max_learning_rate
from gdlab.phenomena._ntk import check_widths, loglog_slope, relu_ntk, relu_ntk_mlp
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.train import mse, train

NAME = "linearized-dynamics"

# CATALOG.md: the gap's log-log slope against width is below −0.3 (theory −1/2).
MAX_SLOPE = -0.3
# CATALOG.md: gap < 0.10 at width 1024 (quick) and < 0.05 at width 4096 (full).
MAX_GAP = {1024: 0.10, 4096: 0.05}


@dataclass(frozen=True)
class Config:
    """Quick size: widths 128..1024, 32 train and 32 test points, 100 GD steps (loss ~1e-5)."""

    n: int = 32
    n_test: int = 32
    d: int = 10
    hidden_layers: int = 2
    widths: tuple[int, ...] = (128, 256, 512, 1024)
    w_std: float = 1.0
    b_std: float = 0.1
    lr_fraction: float = 0.5  # of the analytic stability edge 2n/λ_max(Θ)
    steps: int = 100
    every: int = 5  # checkpoint spacing along the trajectory
    frequency: float = 2.0  # target y = sin(frequency · u·x), scaled to unit RMS

    def __post_init__(self):
        if self.n < 2 or self.n_test < 1 or self.d < 1 or self.hidden_layers < 1:
            raise ValueError("need n >= 2, n_test >= 1, d >= 1 and hidden_layers >= 1")
        check_widths(self.widths)
        if not 0 < self.lr_fraction < 1:
            raise ValueError("lr_fraction must lie in (0, 1)")
        if self.steps < 1 or not 1 <= self.every <= self.steps:
            raise ValueError("need steps >= 1 and 1 <= every <= steps")


def max_gap(cfg: Config) -> float:
    """The catalog's bound at the largest width: 0.05 from width 4096 on, else 0.10."""
    return MAX_GAP[4096] if max(cfg.widths) >= 4096 else MAX_GAP[1024]


def relative_gap(net_traj: torch.Tensor, pred_traj: torch.Tensor, f0: torch.Tensor) -> float:
    """``RMS(net − pred) / RMS(net − f_0)`` over checkpoints and points; ``(T, m, 1)`` each."""
    return float((net_traj - pred_traj).pow(2).mean().sqrt() / (net_traj - f0).pow(2).mean().sqrt())


def run(cfg: Config, ctx: RunContext) -> dict:
    """Per width: train, and compare the trajectory with kernel GD on train and test."""
    gen = ctx.generator()
    x_all = sphere(cfg.n + cfg.n_test, cfg.d, generator=gen, dtype=torch.float64).to(ctx.device)
    u = torch.randn(cfg.d, 1, generator=gen, dtype=torch.float64).to(ctx.device)
    y_all = torch.sin(cfg.frequency * x_all @ (u / u.norm()))
    y_all = y_all / y_all.pow(2).mean().sqrt()
    x, xt, y = x_all[: cfg.n], x_all[cfg.n :], y_all[: cfg.n]
    theta = relu_ntk(x_all, cfg.hidden_layers, w_std=cfg.w_std, b_std=cfg.b_std)
    ktt, kte = theta[: cfg.n, : cfg.n], theta[cfg.n :, : cfg.n]
    lr = cfg.lr_fraction * max_learning_rate(ktt)
    checkpoints = list(range(0, cfg.steps + 1, cfg.every))
    out = {"widths": list(cfg.widths), "gap_train": [], "gap_test": [], "lr": lr, "final_loss": []}
    for i in ctx.trange(len(cfg.widths), desc=NAME):
        width = cfg.widths[i]
        net = relu_ntk_mlp(cfg.d, width, cfg.hidden_layers, w_std=cfg.w_std, b_std=cfg.b_std,
                           generator=gen, device=ctx.device)
        f, p0 = functionalize(net)
        traj: list[tuple[torch.Tensor, torch.Tensor]] = []

        def record(step, params, f=f, traj=traj):
            with torch.no_grad():
                traj.append((f(params, x), f(params, xt)))

        result = train(
            lambda p, f=f: mse(f(p, x), y),
            p0,
            optim.sgd(lr),
            cfg.steps,
            probes=[(cfg.every, record)],
        ).raise_if_diverged()
        net_tr = torch.stack([a for a, _ in traj])  # (T, n, 1)
        net_te = torch.stack([b for _, b in traj])
        f0, f0t = net_tr[0], net_te[0]
        pred = gd_predict(ktt, y, checkpoints, lr=lr, k_test_train=kte, f0_train=f0, f0_test=f0t)
        out["gap_train"].append(relative_gap(net_tr, pred.train, f0))
        out["gap_test"].append(relative_gap(net_te, pred.test, f0t))
        out["final_loss"].append(result.losses[-1] if result.losses else float("nan"))
        ctx.log("gap_train", width, out["gap_train"][-1])
        ctx.log("gap_test", width, out["gap_test"][-1])
        if i == len(cfg.widths) - 1:  # the widest net's test trajectory, for the figure
            out["trajectory"] = {
                "steps": checkpoints,
                "net": net_te[:, :4, 0].T.tolist(),
                "kernel": pred.test[:, :4, 0].T.tolist(),
            }
    for split in ("train", "test"):
        out[f"slope_{split}"], out[f"intercept_{split}"] = loglog_slope(cfg.widths, out[f"gap_{split}"])
    return out


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed, on train and on test: the gap shrinks with width and is small at the widest."""
    bound = max_gap(cfg)

    def checks(r):
        out = []
        for split in ("train", "test"):
            out += [
                check(f"log-log slope of the {split} gap vs width", r[f"slope_{split}"], "<",
                      MAX_SLOPE, prediction="-1/2"),
                check(f"{split} gap at width {max(cfg.widths)}", r[f"gap_{split}"][-1], "<", bound,
                      prediction="O(width^-1/2)"),
            ]
        return out

    return Verdict.from_seeds(
        NAME, seed_results(runs, checks),
        prediction="net − kernel-GD prediction = O(width^-1/2) on train and test")


def figure(cfg: Config, runs: list[RunRecord]):
    """Left: gap vs width (log-log) with the fitted slope and −1/2; right: net vs kernel."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    done = [r for r in runs if r.status == "done"]
    w = np.asarray(cfg.widths, float)
    for split, color in (("train", "C0"), ("test", "C1")):
        for r in done:
            ax1.loglog(w, r[f"gap_{split}"], "o-", color=color, alpha=0.35)
        if done:
            slope = float(np.median([r[f"slope_{split}"] for r in done]))
            icpt = float(np.median([r[f"intercept_{split}"] for r in done]))
            ax1.loglog(
                w,
                np.exp(icpt) * w**slope,
                "-",
                color=color,
                lw=2,
                label=f"{split}: slope {slope:.2f}",
            )
    if done:
        g0 = float(np.median([r["gap_test"][0] for r in done]))
        ax1.loglog(w, g0 * (w / w[0]) ** -0.5, "k--", label="theory: slope −1/2")
        ax1.axhline(max_gap(cfg), color="grey", ls=":", label="pass bound at largest width")
        traj = done[0]["trajectory"]
        for j, (a, b) in enumerate(zip(traj["net"], traj["kernel"], strict=True)):
            ax2.plot(traj["steps"], a, "o", ms=3, color=f"C{j}", label="net" if j == 0 else None)
            ax2.plot(traj["steps"], b, "-", color=f"C{j}", label="kernel GD" if j == 0 else None)
    ax1.set(xlabel="width", ylabel="RMS(net − kernel) / RMS(net − f_0)", title="Gap to kernel GD")
    ax1.legend(fontsize=7)
    ax2.set(xlabel="GD step", ylabel="f_t(x_test)", title=f"Width {max(cfg.widths)}: test outputs")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(
    Phenomenon(
        name=NAME,
        claim="A wide net trained by GD on MSE follows kernel gradient descent with its analytic "
        "NTK, "
        "on train and test points, up to O(width^-1/2).",
        source="Jacot et al. 2018 (§5); Lee et al. 2019 (NeurIPS), Eq. 9-11 and Thm 2.1",
        Config=Config,
        run=run,
        verdict=verdict,
        figure=figure,
        presets={
            "full": {
                "n": 64,
                "n_test": 64,
                "widths": (128, 256, 512, 1024, 2048, 4096),
                "steps": 400,
            }
        },
        prediction="relative RMS gap ∝ width^-1/2; < 0.10 at width 1024 (< 0.05 at 4096)",
        group="Kernels and the infinite-width limit",
    )
)

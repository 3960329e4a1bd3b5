"""Training a wide net by GD barely moves its NTK: the relative change falls as width^-1/2.

Jacot, Gabriel & Hongler 2018 (Thm 2: the NTK stays constant during training in the
infinite-width limit); Lee et al., "Wide Neural Networks of Any Depth Evolve as Linear Models
Under Gradient Descent", NeurIPS 2019 (Thm 2.1, ``sup_t ‖Θ_t − Θ_0‖_F = O(n^{-1/2})``);
Chizat, Oyallon & Bach, "On Lazy Training in Differentiable Programming", NeurIPS 2019.

Experiment (CATALOG.md): the nets of `ntk-init-convergence` (ReLU, 2 hidden layers, NTK
parametrization, points on the sphere in d = 10) trained by full-batch GD on gdlab's
``mse`` (½ mean squared error) to train loss < 1e-3, at a learning rate that is a fixed
fraction of the stability edge ``2n/λ_max(Θ)`` of the analytic kernel (the same for every
width). We measure ``‖Θ_T − Θ_0‖_F / ‖Θ_0‖_F`` on the training inputs and fit its log-log
slope against width. Prediction: −1/2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gdlab import optim
from gdlab.core import functionalize, load_params
from gdlab.data import sphere
from gdlab.kernels import max_learning_rate
from gdlab.phenomena._figures import loglog_vs_width
from gdlab.phenomena._ntk import check_widths, loglog_slope, relu_ntk, relu_ntk_mlp
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.probes import empirical_ntk
from gdlab.train import mse, train

NAME = "ntk-lazy-training"

# CATALOG.md: slope of the relative kernel change against width in [-0.75, -0.3].
SLOPE_RANGE = (-0.75, -0.3)
# CATALOG.md: train to a loss below 1e-3 (½ mean squared error, targets of unit RMS).
LOSS_TARGET = 1e-3


@dataclass(frozen=True)
class Config:
    """Quick size: 5 widths up to 1024, 32 points; full: up to 4096, 64 points."""

    n: int = 32
    d: int = 10
    hidden_layers: int = 2
    widths: tuple[int, ...] = (64, 128, 256, 512, 1024)
    w_std: float = 1.0
    b_std: float = 0.1
    lr_fraction: float = 0.5  # of the analytic stability edge 2n/λ_max(Θ)
    max_steps: int = 20_000
    frequency: float = 2.0  # target y = sin(frequency · u·x), scaled to unit RMS

    def __post_init__(self):
        if self.n < 2 or self.d < 1 or self.hidden_layers < 1:
            raise ValueError("need n >= 2, d >= 1 and hidden_layers >= 1")
        check_widths(self.widths)
        if not 0 < self.lr_fraction < 1:
            raise ValueError("lr_fraction must lie in (0, 1): at 1 GD sits on the stability edge")
        if self.max_steps < 1 or self.w_std <= 0 or self.b_std < 0:
            raise ValueError("need max_steps >= 1, w_std > 0, b_std >= 0")


def target(x: torch.Tensor, frequency: float, gen: torch.Generator) -> torch.Tensor:
    """``y = sin(frequency · u·x)`` for a random unit ``u``, scaled to unit RMS: ``(n, 1)``."""
    u = torch.randn(x.shape[1], 1, generator=gen, dtype=torch.float64).to(x.device)
    y = torch.sin(frequency * x @ (u / u.norm()))
    return y / y.pow(2).mean().sqrt()


def run(cfg: Config, ctx: RunContext) -> dict:
    """Per width: train to loss < 1e-3, measure the relative change of the empirical NTK."""
    gen = ctx.generator()
    x = sphere(cfg.n, cfg.d, generator=gen, dtype=torch.float64).to(ctx.device)
    y = target(x, cfg.frequency, gen)
    theory = relu_ntk(x, cfg.hidden_layers, w_std=cfg.w_std, b_std=cfg.b_std)
    lr = cfg.lr_fraction * max_learning_rate(theory)
    changes, steps_taken, final_losses = [], [], []
    for i in ctx.trange(len(cfg.widths), desc=NAME):
        width = cfg.widths[i]
        net = relu_ntk_mlp(cfg.d, width, cfg.hidden_layers, w_std=cfg.w_std, b_std=cfg.b_std,
                           generator=gen, device=ctx.device)
        f, p0 = functionalize(net)
        k0 = empirical_ntk(net, x)
        result = train(
            lambda p, f=f: mse(f(p, x), y),
            p0,
            optim.sgd(lr),
            cfg.max_steps,
            stop=lambda step, loss: loss < LOSS_TARGET,
        ).raise_if_diverged()
        load_params(net, result.params)
        kt = empirical_ntk(net, x)
        changes.append(float(torch.linalg.norm(kt - k0) / torch.linalg.norm(k0)))
        with torch.no_grad():
            final_losses.append(float(mse(f(result.params, x), y)))
        steps_taken.append(result.steps)
        ctx.log("kernel_change", width, changes[-1])
        ctx.log("steps", width, result.steps)
    slope, intercept = loglog_slope(cfg.widths, changes)
    return {
        "widths": list(cfg.widths),
        "kernel_change": changes,
        "slope": slope,
        "intercept": intercept,
        "steps": steps_taken,
        "final_loss": final_losses,
        "lr": lr,
        "max_final_loss": max(final_losses),
    }


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: every width reached the loss target, and the slope is near −1/2."""

    def checks(r):
        return (
            check("log-log slope of ‖Θ_T−Θ_0‖/‖Θ_0‖ vs width", r["slope"], "in", SLOPE_RANGE,
                  prediction="-1/2"),
            check("largest final train loss over widths", r["max_final_loss"], "<", LOSS_TARGET,
                  prediction=f"trained to < {LOSS_TARGET:g}"),
        )

    return Verdict.from_seeds(NAME, seed_results(runs, checks),
                              prediction="‖Θ_T − Θ_0‖_F/‖Θ_0‖_F ∝ width^-1/2")


def figure(cfg: Config, runs: list[RunRecord]):
    """Relative kernel change vs width on log-log axes with the fitted slope and the −1/2 line."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    loglog_vs_width(ax, cfg.widths, runs, "kernel_change")
    ax.set(
        xlabel="width",
        ylabel="‖Θ_T − Θ_0‖_F / ‖Θ_0‖_F",
        title=f"Kernel change after training to loss < {LOSS_TARGET:g}",
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(
    Phenomenon(
        name=NAME,
        claim="Wide nets trained by full-batch GD on MSE stay lazy: the relative change of their "
        "NTK over training falls as width^-1/2.",
        source="Jacot et al. 2018 (Thm 2); Lee et al. 2019 (Thm 2.1); Chizat, Oyallon & Bach 2019",
        Config=Config,
        run=run,
        verdict=verdict,
        figure=figure,
        presets={"full": {"n": 64, "widths": (64, 128, 256, 512, 1024, 2048, 4096)}},
        prediction="‖Θ_T − Θ_0‖_F/‖Θ_0‖_F ∝ width^-1/2 (slope in [-0.75, -0.3])",
        group="Kernels and the infinite-width limit",
    )
)

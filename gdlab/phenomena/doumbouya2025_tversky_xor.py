"""A single Tversky projection layer learns XOR; a single linear layer cannot.

Doumbouya, Jurafsky, Manning 2025, "Tversky Neural Networks: Psychologically Plausible Deep
Learning with Differentiable Tversky Similarity" (arXiv:2506.11035; seeds 000, 002): the
Tversky projection layer ``y_j = S(x, π_j)`` (`gdlab.models.TverskyProjection`) is
nonlinear in ``x`` (features enter only when ``x·f_k > 0``), so one layer followed by argmax
can separate XOR, which no linear layer can (a linear argmax classifier gets at most 3 of
the 4 XOR points right).

Experiment (notes P13): the four XOR points ``{0, 1}²``, labels ``x₁ XOR x₂``; one Tversky
projection layer with 2 prototypes and 8 features, the authors' defaults otherwise
(product intersection, ignorematch difference, prototypes and features uniform on [0, 1),
θ = 1, α = β = 0.5, all learnable); cross-entropy on the similarities, Adam (lr 0.01, the
`torch_optimizer` adapter), 2000 full-batch steps. Baseline: ``nn.Linear(2, 2)`` trained
the same way. Measured: final training accuracy of each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gdlab import optim
from gdlab.models import TverskyProjection
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register

NAME = "tversky-xor"

# CATALOG.md: "100% in ≥ 8 of 10 seeds" (the 80% seed quorum) ...
TVERSKY_ACCURACY = 1.0
# ... "linear ≤ 75% always": 3/4 is the best any linear argmax classifier does on XOR.
LINEAR_MAX_ACCURACY = 0.75

XOR_X = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
XOR_Y = (0, 1, 1, 0)


@dataclass(frozen=True)
class Config:
    """Quick = the notes' experiment (4 points, 2 prototypes, 8 features, 2000 steps)."""

    num_features: int = 8
    intersection: str = "product"
    difference: str = "ignorematch"
    lr: float = 0.01
    steps: int = 2000
    log_every: int = 20

    def __post_init__(self):
        if self.num_features < 1 or self.steps < 1 or self.log_every < 1:
            raise ValueError("num_features, steps and log_every must be >= 1")
        if not self.lr > 0:
            raise ValueError("lr must be positive")
        TverskyProjection(2, 2, 1, intersection=self.intersection, difference=self.difference)


def train(model: nn.Module, x, y, cfg: Config, ctx: RunContext, tag: str) -> float:
    """Full-batch Adam on cross-entropy; logs loss and accuracy; returns final accuracy."""
    opt = optim.torch_optimizer("adam", model.parameters(), lr=cfg.lr)
    for t in range(cfg.steps):
        opt.zero_grad()
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        if t % cfg.log_every == 0 or t == cfg.steps - 1:
            ctx.log(f"{tag}_loss", t, float(loss.detach()))
            ctx.log(f"{tag}_accuracy", t, accuracy(model, x, y))
    return accuracy(model, x, y)


def accuracy(model: nn.Module, x, y) -> float:
    """Fraction of points whose argmax output is the label."""
    with torch.no_grad():
        return float((model(x).argmax(-1) == y).float().mean())


def run(cfg: Config, ctx: RunContext) -> dict:
    """Train one Tversky projection layer and one linear layer on XOR."""
    x = torch.tensor(XOR_X, device=ctx.device)
    y = torch.tensor(XOR_Y, device=ctx.device)
    tversky = TverskyProjection(2, 2, cfg.num_features, intersection=cfg.intersection,
                                difference=cfg.difference, generator=ctx.generator(0))
    tversky = tversky.to(ctx.device)
    acc_t = train(tversky, x, y, cfg, ctx, "tversky")
    torch.manual_seed(ctx.seed)  # nn.Linear draws its init from the global RNG
    linear = nn.Linear(2, 2).to(ctx.device)
    acc_l = train(linear, x, y, cfg, ctx, "linear")
    grid = torch.stack(torch.meshgrid(torch.linspace(-0.5, 1.5, 41),
                                      torch.linspace(-0.5, 1.5, 41), indexing="xy"), -1)
    with torch.no_grad():
        regions = tversky(grid.reshape(-1, 2).to(ctx.device)).argmax(-1).reshape(41, 41)
    return {
        "tversky_accuracy": acc_t,
        "linear_accuracy": acc_l,
        "tversky_predictions": tversky(x).argmax(-1).tolist(),
        "tversky_regions": regions.tolist(),
        "theta_alpha_beta": [float(p.detach()) for p in (tversky.theta, tversky.alpha,
                                                          tversky.beta)],
    }


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: the Tversky layer fits XOR exactly; the linear layer stays ≤ 3/4."""

    def checks(r):
        return (
            check("Tversky layer training accuracy", r["tversky_accuracy"], ">=",
                  TVERSKY_ACCURACY, prediction="1 (XOR is representable)"),
            check("linear layer training accuracy", r["linear_accuracy"], "<=",
                  LINEAR_MAX_ACCURACY, prediction="≤ 3/4 (XOR is not linearly separable)"),
        )

    linear_ok = [r["linear_accuracy"] <= LINEAR_MAX_ACCURACY for r in runs if r.status == "done"]
    pooled = [check("seeds with linear accuracy ≤ 3/4 (fraction; CATALOG: always)",
                    float(np.mean(linear_ok)), ">=", 1.0)] if linear_ok else []
    return Verdict.from_seeds(NAME, seed_results(runs, checks), pooled=pooled,
                              prediction="Tversky projection: 100% on XOR; linear: ≤ 75%")


def figure(cfg: Config, runs: list[RunRecord]):
    """Decision regions of one trained Tversky layer; accuracy curves of both models."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    done = [r for r in runs if r.status == "done"]
    if done:
        best = max(done, key=lambda r: r["tversky_accuracy"])
        ax1.imshow(np.array(best["tversky_regions"]), origin="lower", extent=(-0.5, 1.5, -0.5, 1.5),
                   cmap="coolwarm", alpha=0.35)
        for (a, b), label in zip(XOR_X, XOR_Y, strict=True):
            ax1.scatter(a, b, c="C3" if label else "C0", s=80, edgecolors="k")
        ax1.set(title=f"Tversky layer decision regions (seed {best.seed})", xlabel="x₁",
                ylabel="x₂")
    for r in done:
        for tag, color in (("tversky", "C1"), ("linear", "C0")):
            steps, vals = r.series.get(f"{tag}_accuracy", ([], []))
            ax2.plot(steps, vals, color=color, alpha=0.5,
                     label=tag if r is done[0] else None)
    ax2.axhline(LINEAR_MAX_ACCURACY, color="k", ls="--", label="linear bound 3/4 (theory)")
    ax2.set(xlabel="Adam step", ylabel="training accuracy", ylim=(0.4, 1.05),
            title="XOR: Tversky projection vs linear layer")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="One Tversky projection layer fits XOR; one linear layer cannot exceed 75%.",
    source="Doumbouya, Jurafsky, Manning 2025 (arXiv:2506.11035); seeds 000, 002",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"steps": 5000}},
    default_seeds=10,
    prediction="Tversky: 100% training accuracy; linear: ≤ 75%",
    group="Optimizers from the seeds",
))

"""Minibatch Hessians are sharper than the full Hessian, by an excess that decays like 1/B.

Granziol, Zohren & Roberts, "Learning Rates as a Function of Batch Size: A Random Matrix
Theory Approach to Neural Network Training", JMLR 2022 (arXiv 2006.09092, Sections 3-4);
seeds 000 and 001.

Claim: the Hessian of a batch of ``B`` samples is the full Hessian plus a fluctuation whose
entries have variance ∝ ``1/B``. By spiked random-matrix theory (the BBP regime, outlier well
separated from the noise), the top eigenvalue is pushed up by
``λ_1(H_B) − λ_1(H) ≈ σ²/(B·λ_1(H))``: larger than the full-batch value, decreasing in ``B``,
with excess ``∝ B^{−1}``. This is why the largest stable learning rate of SGD grows with ``B``.

Experiment: an MLP 64-128-10 (ReLU) on scikit-learn digits, cross-entropy, checkpointed after
one epoch of SGD (the notes' protocol: an early checkpoint, past the initial transient). At the
checkpoint, ``λ_1`` of the full training Hessian and, for each ``B``, the mean ``λ_1(H_B)``
over ``batches`` random batches drawn without replacement (Lanczos, `top_eigenvalues`). The
log-log slope of the mean excess against ``B`` is the measured exponent. Batches are averaged
50 at a time: measured with 10 (the notes' number), 3 of 5 seeds had one non-monotone step
(small-batch ``λ_1`` are heavy-tailed: standard errors up to 40% of the mean at B ≤ 32), while
all 5 slopes were already in the band (−1.24 to −0.83).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gdlab.core import functionalize
from gdlab.data import digits
from gdlab.models import MLP
from gdlab.optim import sgd
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.probes.curvature import top_eigenvalues
from gdlab.train import cross_entropy, train

NAME = "batch-hessian-sharpness"

# CATALOG.md: excess ∝ B^a with a in [−1.3, −0.7] (spiked RMT: a = −1) ...
SLOPE_BAND = (-1.3, -0.7)
# ... and a monotone decrease in B: no increase of the mean λ_1(H_B) from one B to the next.
MAX_INCREASES = 0


@dataclass(frozen=True)
class Config:
    """Quick sizes: 1500 digits, MLP 64-128-10, one epoch of SGD (B=32), 50 batches per size."""

    n: int = 1500
    widths: tuple[int, ...] = (128,)
    train_batch: int = 32
    train_lr: float = 0.1
    epochs: int = 1
    batch_sizes: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    batches: int = 50
    tol: float = 1e-4  # Lanczos tolerance; the smallest excess (B = 256) is ~5% of λ_1

    def __post_init__(self):
        if not 10 <= self.n < 1797:
            raise ValueError("n must be in [10, 1797) (digits has 1797 images; keep a test set)")
        if list(self.batch_sizes) != sorted(set(self.batch_sizes)) or len(self.batch_sizes) < 3:
            raise ValueError("batch_sizes must be >= 3 strictly increasing sizes")
        if self.batch_sizes[0] < 1 or self.batch_sizes[-1] >= self.n:
            raise ValueError(f"batch sizes must lie in [1, n={self.n})")
        if min(self.train_batch, self.epochs, self.batches) < 1 or self.train_lr <= 0:
            raise ValueError("train_batch, epochs, batches and train_lr must be positive")


def run(cfg: Config, ctx: RunContext) -> dict:
    """Train to the checkpoint, then λ_1 of the full and of random minibatch Hessians."""
    ds = digits(cfg.n, None, seed=ctx.seed, dtype=torch.float32)
    x, y = ds.x_train.to(ctx.device), ds.y_train.to(ctx.device)
    net = MLP(x.shape[1], cfg.widths, 10, activation="relu", generator=ctx.generator(0))
    net = net.to(ctx.device)
    f, params = functionalize(net)
    g = ctx.generator(1)
    batches = []
    for _ in range(cfg.epochs):
        perm = torch.randperm(cfg.n, generator=g)
        batches += [perm[i:i + cfg.train_batch] for i in range(0, cfg.n, cfg.train_batch)]
    res = train(lambda p, idx: cross_entropy(f(p, x[idx]), y[idx]), params, sgd(cfg.train_lr),
                len(batches), batches=batches)
    res.raise_if_diverged()
    p = res.params
    full = float(top_eigenvalues(f, cross_entropy, x, y, params=p, tol=cfg.tol, generator=g)[0])
    means, sems = [], []
    for B in ctx.trange(len(cfg.batch_sizes), desc=NAME):
        size = cfg.batch_sizes[B]
        lams = []
        for _ in range(cfg.batches):
            idx = torch.randperm(cfg.n, generator=g)[:size]
            lams.append(float(top_eigenvalues(f, cross_entropy, x[idx], y[idx], params=p,
                                              tol=cfg.tol, generator=g)[0]))
        means.append(float(np.mean(lams)))
        sems.append(float(np.std(lams, ddof=1) / np.sqrt(len(lams))))
        ctx.log("mean_batch_sharpness", size, means[-1])
    excess = np.asarray(means) - full
    sizes = np.asarray(cfg.batch_sizes, dtype=float)
    pos = excess > 0
    slope = float("nan")  # undefined with fewer than two positive excesses (fails the check)
    if pos.sum() >= 2:
        slope = float(np.polyfit(np.log(sizes[pos]), np.log(excess[pos]), 1)[0])
    return {
        "full_sharpness": full,
        "mean_batch_sharpness": means,
        "sem_batch_sharpness": sems,
        "excess": excess.tolist(),
        "slope": slope,
        "increases": int((np.diff(means) >= 0).sum()),
        "train_loss": [res.losses[0], res.losses[-1]],
    }


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: mean λ_1(H_B) decreases in B, stays above λ_1(H), excess slope in [−1.3, −0.7]."""

    def checks(r):
        return (
            check("increases of mean λ₁(H_B) from one B to the next", r["increases"], "<=",
                  MAX_INCREASES, prediction="0 (monotone decrease)"),
            check(f"excess λ₁(H_B) − λ₁(H) at the largest B={cfg.batch_sizes[-1]}",
                  r["excess"][-1], ">", 0.0, prediction="> 0 (batch Hessians are sharper)"),
            check("log-log slope of the excess in B", r["slope"], "in", SLOPE_BAND,
                  prediction="−1 (spiked RMT)"),
        )

    return Verdict.from_seeds(NAME, seed_results(runs, checks),
                              prediction="λ₁(H_B) > λ₁(H), decreasing in B, excess ∝ 1/B")


def figure(cfg: Config, runs: list[RunRecord]):
    """Mean λ_1(H_B) against B with λ_1(H); the excess on log-log axes with the 1/B theory."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    sizes = np.asarray(cfg.batch_sizes, dtype=float)
    for j, r in enumerate(runs):
        if r.status != "done":
            continue
        ax1.errorbar(sizes, r["mean_batch_sharpness"], yerr=r["sem_batch_sharpness"], marker="o",
                     ms=3, capsize=2, alpha=0.8, label=f"seed {r.seed}")
        ax1.axhline(r["full_sharpness"], ls=":", lw=0.8, color=f"C{j}")
        ex = np.asarray(r["excess"])
        ax2.loglog(sizes[ex > 0], ex[ex > 0], "o-", ms=3, alpha=0.8,
                   label=f"seed {r.seed}: slope {r['slope']:.2f}")
    done = [r for r in runs if r.status == "done"]
    if done:
        ex0 = done[0]["excess"][0]
        ax2.loglog(sizes, ex0 * sizes[0] / sizes, "k--", label="∝ 1/B (theory)")
    ax1.set_xscale("log", base=2)
    ax1.set(xlabel="batch size B", ylabel="mean λ₁(H_B)",
            title="Batch Hessians are sharper (dotted: full)")
    ax1.legend(fontsize=7)
    ax2.set(xlabel="batch size B", ylabel="λ₁(H_B) − λ₁(H)", title="Excess decays like 1/B")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="The top eigenvalue of minibatch Hessians exceeds the full Hessian's and falls toward "
          "it as the batch grows, with an excess ∝ 1/B.",
    source="Granziol, Zohren & Roberts, JMLR 2022 (arXiv 2006.09092); seeds 000, 001",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"widths": (256, 256), "batch_sizes": (4, 8, 16, 32, 64, 128, 256, 512),
                      "batches": 200, "epochs": 2}},
    prediction="λ₁(H_B) − λ₁(H) ∝ B^a with a = −1",
    group="Curvature and stability",
))

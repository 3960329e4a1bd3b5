"""A linear self-attention layer trained on regression prompts computes one step of GD.

Ahn, Cheng, Daneshmand & Sra (NeurIPS 2023), "Transformers learn to implement preconditioned
gradient descent for in-context learning", Thm 1 (one layer); Mahankali, Hashimoto & Ma
(2023); Zhang, Frei & Bartlett (JMLR 2024) for convergence of the training dynamics;
von Oswald et al. (ICML 2023). Seeds 000, 001, 003.

Experiment: train `gdlab.models.LinearSelfAttention` with Adam on fresh prompts
``(x_i, w·x_i)_{i≤N}, x_q`` with ``x ~ N(0, Λ)``, ``w ~ N(0, I_d)``, once with ``Λ = I`` and
once with an anisotropic ``Λ``. On fresh prompts, compare the trained model with the
predictor of `gdlab.theory.icl` (one step of preconditioned GD from zero,
``Γ = (1 + 1/N)Λ + tr(Λ)/N · I``), and — for the anisotropic ``Λ`` — with the best plain
one-step GD predictor ``η x_qᵀ (1/N)Σ y_i x_i`` (``η`` fitted to the model, which favours the
alternative).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from gdlab.core import functionalize
from gdlab.data import regression_prompts
from gdlab.models import LinearSelfAttention
from gdlab.optim import adam
from gdlab.phenomena._protocol import Phenomenon, RunContext, RunRecord
from gdlab.phenomena._verdict import Verdict, check, seed_results
from gdlab.phenomena.catalog import register
from gdlab.theory import one_step_gd_predict, preconditioner
from gdlab.train import train

NAME = "icl-one-step-gd"

# CATALOG.md: relative MSE between trained model and the Γ⁻¹ predictor < 0.05 (a wrong Γ —
# e.g. Λ⁻¹ alone, or plain GD on anisotropic data — is off by ≥ 0.1 at these sizes).
MAX_REL_MSE = 0.05
# CATALOG.md: for anisotropic Λ the preconditioned predictor fits the model ≥ 5× better than
# the best plain one-step GD.
MIN_ADVANTAGE = 5.0


@dataclass(frozen=True)
class Config:
    """Quick = the paper's d=5, N=20 with a shorter Adam schedule than the prototype's 3000."""

    d: int = 5
    n_context: int = 20
    batch: int = 256
    steps: int = 1500
    lr: float = 0.01  # Adam, cosine-decayed to 0
    init_std: float = 0.1
    anisotropy: float = 10.0  # condition number of the anisotropic Λ
    eval_prompts: int = 20_000

    def __post_init__(self):
        if min(self.d, self.n_context, self.batch, self.steps, self.eval_prompts) < 1:
            raise ValueError("d, n_context, batch, steps, eval_prompts must be >= 1")
        if not self.lr > 0 or not self.init_std > 0:
            raise ValueError("lr and init_std must be positive")
        if self.anisotropy < 1:
            raise ValueError("anisotropy (condition number) must be >= 1")


def _covariance(cfg: Config, g: torch.Generator) -> torch.Tensor:
    """Λ = U diag(λ) Uᵀ, λ log-spaced with condition number `anisotropy`, mean 1."""
    lam = torch.tensor(np.geomspace(1.0, 1.0 / cfg.anisotropy, cfg.d), dtype=torch.float64)
    lam = lam / lam.mean()
    u, _ = torch.linalg.qr(torch.randn(cfg.d, cfg.d, generator=g, dtype=torch.float64))
    return u @ torch.diag(lam) @ u.T


def _train_and_compare(cfg: Config, cov: torch.Tensor, ctx: RunContext, tag: str, offset: int) -> dict:
    g = ctx.generator(offset)
    chol64 = torch.linalg.cholesky(cov)
    model = LinearSelfAttention(cfg.d, init_std=cfg.init_std, generator=g)
    f, params = functionalize(model)

    def prompts(b: int, dtype=torch.float32):
        p = regression_prompts(b, cfg.n_context, cfg.d, generator=g, dtype=dtype)
        # x ~ N(0, Λ) via x = L ε (regression_prompts draws ε ~ N(0, I)); labels follow.
        chol = chol64.to(dtype)
        x, xq = p.x @ chol.T, p.x_query @ chol.T
        y = torch.einsum("bnd,bd->bn", x, p.w)
        yq = (xq * p.w).sum(-1)
        return x, y, xq, yq

    def batches():
        while True:
            yield prompts(cfg.batch)

    def loss(p, batch):
        x, y, xq, yq = batch
        return 0.5 * (f(p, x, y, xq) - yq).pow(2).mean()

    def cosine(count):
        return cfg.lr * 0.5 * (1 + torch.cos(math.pi * count.double() / cfg.steps))

    result = train(loss, params, adam(cosine), cfg.steps, batches=batches(), log=ctx.log,
                   log_every=max(1, cfg.steps // 100), progress=lambda n: ctx.trange(n, NAME))
    result.raise_if_diverged()
    x, y, xq, yq = prompts(cfg.eval_prompts, torch.float64)
    with torch.no_grad():
        model_pred = f({k: v.double() for k, v in result.params.items()}, x, y, xq)
    theory = one_step_gd_predict(x, y, xq, preconditioner(cov, cfg.n_context))
    plain = one_step_gd_predict(x, y, xq, None)
    eta = float((plain @ model_pred) / (plain @ plain))  # best step for plain GD
    ref = float(theory.pow(2).mean())
    rel_theory = float((model_pred - theory).pow(2).mean()) / ref
    rel_plain = float((model_pred - eta * plain).pow(2).mean()) / ref
    bayes = float((theory - yq).pow(2).mean())  # ICL risk of the predictor itself
    return {
        f"{tag}_rel_mse_theory": rel_theory,
        f"{tag}_rel_mse_plain_gd": rel_plain,
        f"{tag}_final_loss": result.losses[-1],
        f"{tag}_predictor_risk": bayes,
    }


def run(cfg: Config, ctx: RunContext) -> dict:
    """Train LSA on isotropic and on anisotropic prompts; compare with the Γ⁻¹ predictor."""
    out = _train_and_compare(cfg, torch.eye(cfg.d, dtype=torch.float64), ctx, "iso", 1)
    series = dict(ctx.series_data)
    ctx.series_data.clear()
    cov = _covariance(cfg, ctx.generator(2))
    out |= _train_and_compare(cfg, cov, ctx, "aniso", 3)
    ctx.series_data["loss_aniso"] = ctx.series_data.pop("loss")
    ctx.series_data["loss_iso"] = series["loss"]
    out["aniso_advantage"] = out["aniso_rel_mse_plain_gd"] / max(out["aniso_rel_mse_theory"], 1e-300)
    return out


def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:
    """Per seed: model ≈ Γ⁻¹ predictor (iso and aniso), and ≥ 5× better than plain GD (aniso)."""
    def checks(r):
        return (
            check("rel. MSE model vs Γ⁻¹ predictor, Λ = I", r["iso_rel_mse_theory"], "<", MAX_REL_MSE,
                  prediction="0 (LSA = one preconditioned GD step)"),
            check("rel. MSE model vs Γ⁻¹ predictor, anisotropic Λ", r["aniso_rel_mse_theory"], "<",
                  MAX_REL_MSE, prediction="0"),
            check("plain-GD misfit / Γ⁻¹ misfit, anisotropic Λ", r["aniso_advantage"], ">=",
                  MIN_ADVANTAGE, prediction="≫ 1 (preconditioning matters)"),
        )

    per_seed = seed_results(runs, checks)
    return Verdict.from_seeds(NAME, per_seed,
                              prediction="ŷ = x_qᵀ Γ⁻¹ (1/N) Σ y_i x_i, Γ = (1 + 1/N)Λ + tr(Λ)/N · I")


def figure(cfg: Config, runs: list[RunRecord]):
    """Training loss, and the model's misfit to each predictor per seed."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for r in runs:
        for key, style in (("loss_iso", "-"), ("loss_aniso", "--")):
            if key in r.series:
                s, v = r.series[key]
                ax1.semilogy(s, v, style, alpha=0.6, label=f"seed {r.seed} {key[5:]}" if r.seed < 2 else None)
        ax1.axhline(r["iso_predictor_risk"], color="k", lw=0.5)
    ax1.set(xlabel="Adam step", ylabel="ICL loss ½E(ŷ − y)²",
            title="Training (grey: risk of the Γ⁻¹ predictor)")
    ax1.legend(fontsize=7)
    labels = ["Γ⁻¹, Λ=I", "Γ⁻¹, aniso Λ", "plain GD, aniso Λ"]
    keys = ["iso_rel_mse_theory", "aniso_rel_mse_theory", "aniso_rel_mse_plain_gd"]
    for i, k in enumerate(keys):
        vals = [r[k] for r in runs]
        ax2.scatter([i] * len(vals), vals, alpha=0.7)
    ax2.axhline(MAX_REL_MSE, color="r", ls="--", label=f"pass threshold {MAX_REL_MSE}")
    ax2.set_yscale("log")
    ax2.set_xticks(range(3), labels)
    ax2.set(ylabel="rel. MSE between model and predictor", title="Which predictor the model computes")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


PHENOMENON = register(Phenomenon(
    name=NAME,
    claim="A one-layer linear self-attention trained on linear-regression prompts predicts with "
          "one step of preconditioned gradient descent from zero.",
    source="Ahn et al. 2023, Thm 1; Mahankali et al. 2023; Zhang, Frei & Bartlett 2023; "
           "von Oswald et al. 2023; seeds 000, 001, 003",
    Config=Config,
    run=run,
    verdict=verdict,
    figure=figure,
    presets={"full": {"batch": 512, "steps": 6000, "eval_prompts": 100_000}},
    prediction="ŷ = x_qᵀ Γ⁻¹ (1/N)Σ y_i x_i with Γ = (1 + 1/N)Λ + tr(Λ)/N · I",
    group="In-context learning",
))

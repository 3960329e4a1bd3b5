"""The in-context predictor a trained linear self-attention layer implements.

Ahn, Cheng, Daneshmand & Sra (2023) and Mahankali, Hashimoto & Ma (2023); Zhang, Frei &
Bartlett (2023) for the trained dynamics. For prompts ``(x_1, y_1, …, x_N, y_N, x_q)`` with
``x ~ N(0, Λ)``, ``y_i = w·x_i``, ``w ~ N(0, I)``, the global minimizer of the population
ICL loss over one-layer linear self-attention is one step of preconditioned GD from zero:

.. math:: ŷ = x_q^⊤ Γ^{-1} \\frac1N \\sum_i y_i x_i, \\qquad
          Γ = \\left(1 + \\frac1N\\right) Λ + \\frac{\\operatorname{tr} Λ}{N} I.

(Equivalently ``ŷ = x_qᵀ((N+1)Λ + tr(Λ) I)⁻¹ Σ y_i x_i``.) Plain one-step GD uses ``Γ ∝ I``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def preconditioner(cov: Tensor, n_context: int) -> Tensor:
    """``Γ = (1 + 1/N) Λ + tr(Λ)/N · I`` for covariance ``Λ: (d, d)``; returns ``(d, d)``."""
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be square, got {tuple(cov.shape)}")
    if n_context <= 0:
        raise ValueError("n_context must be positive")
    d = cov.shape[0]
    eye = torch.eye(d, dtype=cov.dtype, device=cov.device)
    return (1 + 1 / n_context) * cov + torch.trace(cov) / n_context * eye


def one_step_gd_predict(x: Tensor, y: Tensor, x_query: Tensor, gamma: Tensor | None) -> Tensor:
    """``ŷ = x_qᵀ Γ⁻¹ (1/N) Σ_i y_i x_i`` for a batch of prompts.

    Args:
        x: ``(B, N, d)`` context inputs; y: ``(B, N)`` labels; x_query: ``(B, d)``.
        gamma: ``(d, d)`` preconditioner ``Γ``; ``None`` gives plain one-step GD with the
            step fitted later (``Γ = I``).

    Returns:
        ``(B,)`` predictions.
    """
    n = x.shape[1]
    grad = torch.einsum("bn,bnd->bd", y, x) / n  # (B, d): (1/N) Σ y_i x_i
    if gamma is not None:
        grad = torch.linalg.solve(gamma, grad.T).T
    return (x_query * grad).sum(-1)

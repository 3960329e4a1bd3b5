"""Normalized steps: by the gradient's norm, or by the mean logistic weight (Normalized LR+GD).

The norm is taken over the whole parameter tree (all leaves together), so the step length
is exactly ``lr`` for every model. For an ensemble, wrap the rule in `vmapped` so each
member is normalized by its own norm.
"""

from __future__ import annotations

import torch

from gdlab.optim._base import EmptyState, GradientTransformation, Schedule, chain
from gdlab.optim._transforms import scale_by_learning_rate
from gdlab.optim._validation import check_lr, check_nonnegative


def scale_by_global_norm(eps: float = 0.0) -> GradientTransformation:
    """``u = g / (‖g‖₂ + ε)`` with ``‖g‖₂`` over all leaves; ``u = 0`` where ``g = 0``."""

    def init(params):
        return EmptyState()

    def update(grads, state, params=None, **extra):
        sq = sum(torch.sum(g * g) for g in grads.values())
        norm = torch.sqrt(torch.as_tensor(sq))
        denom = norm + eps
        # A zero gradient stays a zero step instead of 0/0.
        inv = torch.where(denom > 0, 1 / torch.where(denom > 0, denom, 1.0), 0.0)
        return {k: g * inv for k, g in grads.items()}, state

    return GradientTransformation(init, update)


def normalized_gd(lr: float | Schedule = 1e-2, eps: float = 0.0) -> GradientTransformation:
    """Normalized gradient descent ``θ ← θ − lr · ∇L / (‖∇L‖₂ + ε)`` (Nesterov 1984; Shor).

    Every step has length ``lr`` (with ε = 0). Used as the upper-level step in the seeds'
    bilevel methods and as a fast separator for logistic regression on separable data.
    """
    check_lr(lr)
    check_nonnegative("eps", eps)
    return chain(scale_by_global_norm(eps), scale_by_learning_rate(lr))


def scale_by_logistic_normalizer() -> GradientTransformation:
    """``u = β g`` with ``β = (\\frac1n Σ_i σ(−m_i))^{-1}``, the margins ``m_i = y_i a_iᵀθ``.

    ``σ(−m_i)`` is the weight of sample ``i`` in the logistic-loss gradient; ``β`` divides by
    their mean. The margins come through ``update(..., margins=m)`` (shape ``(n,)``); through
    `torch_optimizer`, ``opt.step(margins=m)``.
    """

    def init(params):
        return EmptyState()

    def update(grads, state, params=None, *, margins=None, **extra):
        if margins is None:
            raise ValueError(
                "this rule needs the margins m_i = y_i·f(x_i): "
                "update(grads, state, params, margins=m) or opt.step(margins=m)"
            )
        like = next(iter(grads.values()))
        m = torch.as_tensor(margins).detach().to(dtype=like.dtype, device=like.device)
        beta = 1 / torch.sigmoid(-m).mean()
        return {k: g * beta for k, g in grads.items()}, state

    return GradientTransformation(init, update)


def normalized_lr_gd(lr: float | Schedule = 1.0) -> GradientTransformation:
    """Normalized LR+GD (Tyurin 2024, 'From logistic regression to the perceptron algorithm',
    Sec. 6), for the mean logistic loss ``f(θ) = (1/n) Σ log(1 + e^{−m_i})``.

    .. math:: θ_{t+1} = θ_t − γ β_t ∇f(θ_t),\\qquad
              β_t = \\Big(\\frac1n \\sum_{i=1}^n (1 + e^{y_i a_iᵀθ_t})^{-1}\\Big)^{-1}

    As γ → ∞ it becomes the Normalized Batch Perceptron
    ``θ ← θ + (1/|S_t|) Σ_{i∈S_t} y_i a_i`` (``S_t`` the misclassified points), and it
    separates after at most ``R²/μ² + 2 log(2n−1)/(γμ²)`` iterations (Theorem 6.1), where
    LR+GD's γ → ∞ limit, the Batch Perceptron, can need ``Ω(n)`` (Theorem 5.1). Needs
    ``margins=`` in ``update`` (see `scale_by_logistic_normalizer`).
    """
    check_lr(lr)
    return chain(scale_by_logistic_normalizer(), scale_by_learning_rate(lr))

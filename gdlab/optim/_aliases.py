"""The standard optimizers as chains of transformations (optax's alias pattern).

Hyper-parameter names follow ``torch.optim``.
"""

from __future__ import annotations

from gdlab.optim._base import GradientTransformation, Schedule, chain
from gdlab.optim._transforms import (
    add_weight_decay,
    decoupled_weight_decay,
    scale_by_adam,
    scale_by_learning_rate,
    trace,
)
from gdlab.optim._validation import check_betas, check_lr, check_nonnegative


def sgd(
    lr: float | Schedule,
    momentum: float = 0.0,
    *,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> GradientTransformation:
    """(Stochastic) gradient descent with optional heavy-ball or Nesterov momentum.

    .. math:: g ← g + λθ;\\quad b_t = μ b_{t-1} + (1−τ) g;\\quad
              θ ← θ − lr · (g + μ b_t \\text{ if Nesterov else } b_t)

    Equal to ``torch.optim.SGD`` with the same arguments (bit for bit in float64).
    With ``momentum=0`` this is plain GD: ``θ ← θ − lr·∇L``.
    """
    check_lr(lr)
    check_nonnegative("momentum", momentum)
    check_nonnegative("dampening", dampening)
    check_nonnegative("weight_decay", weight_decay)
    parts = [add_weight_decay(weight_decay)] if weight_decay else []
    if momentum:
        parts.append(trace(momentum, dampening=dampening, nesterov=nesterov))
    elif nesterov:
        raise ValueError("Nesterov momentum requires momentum > 0")
    parts.append(scale_by_learning_rate(lr))
    return chain(*parts)


def gd(lr: float | Schedule) -> GradientTransformation:
    """Plain gradient descent ``θ ← θ − lr·∇L`` (full-batch when fed full-batch gradients)."""
    return sgd(lr)


def adam(
    lr: float | Schedule = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
) -> GradientTransformation:
    """Adam (Kingma & Ba 2015) with coupled L2 decay, as ``torch.optim.Adam``."""
    check_lr(lr)
    check_betas(betas)
    check_nonnegative("eps", eps)
    check_nonnegative("weight_decay", weight_decay)
    parts = [add_weight_decay(weight_decay)] if weight_decay else []
    parts.append(scale_by_adam(lr, betas[0], betas[1], eps))
    return chain(*parts)


def adamw(
    lr: float | Schedule = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
) -> GradientTransformation:
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled decay, as ``torch.optim.AdamW``.

    .. math:: θ ← θ(1 − lr·λ) − \\frac{lr}{1−β_1^t}\\frac{m_t}{\\sqrt{v_t/(1−β_2^t)} + ε}
    """
    check_lr(lr)
    check_betas(betas)
    check_nonnegative("eps", eps)
    check_nonnegative("weight_decay", weight_decay)
    return chain(
        scale_by_adam(lr, betas[0], betas[1], eps), decoupled_weight_decay(lr, weight_decay)
    )

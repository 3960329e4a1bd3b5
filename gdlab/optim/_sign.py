"""Sign-based rules: sign descent (signSGD / Signum) and Lion.

Both move every coordinate by exactly ``lr`` per step: steepest descent for the ℓ∞ norm.
With decoupled weight decay λ, Lion's fixed points lie in the box ``‖θ‖∞ ≤ 1/λ``
(Chen, Liang, Liu et al. 2023).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from gdlab._typing import Params
from gdlab.optim._base import GradientTransformation, Schedule, chain
from gdlab.optim._transforms import decoupled_weight_decay, scale_by_learning_rate
from gdlab.optim._validation import check_betas, check_lr, check_nonnegative, check_unit_interval


class SignState(NamedTuple):
    """The momentum buffer (zeros when momentum is 0)."""

    buf: Params


def scale_by_sign(momentum: float = 0.0) -> GradientTransformation:
    """``u = sign(m_t)`` with ``m_t = μ m_{t−1} + (1 − μ) g_t`` (``m_t = g_t`` when μ = 0).

    Bernstein, Wang, Azizzadenesheli, Anandkumar 2018, 'signSGD: compressed optimisation for
    non-convex problems', Algorithms 1 (signSGD, μ = 0) and 3 (Signum).
    """

    def init(params):
        return SignState({k: torch.zeros_like(v) for k, v in params.items()})

    def update(grads, state, params=None, **extra):
        buf = {k: state.buf[k].lerp(g, 1 - momentum) for k, g in grads.items()}
        return {k: torch.sign(b) for k, b in buf.items()}, SignState(buf)

    return GradientTransformation(init, update)


def sign_descent(
    lr: float | Schedule = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0
) -> GradientTransformation:
    """Sign descent: ``θ ← θ(1 − lr·λ) − lr · sign(m_t)`` (signSGD; Signum with momentum).

    ``m_t = μ m_{t−1} + (1 − μ) g_t``; decay is decoupled, as in Lion.
    """
    check_lr(lr)
    check_unit_interval("momentum", momentum)
    check_nonnegative("weight_decay", weight_decay)
    return chain(
        scale_by_sign(momentum),
        scale_by_learning_rate(lr),
        decoupled_weight_decay(lr, weight_decay),
    )


class LionState(NamedTuple):
    """Lion's momentum ``m``."""

    mu: Params


def scale_by_lion(b1: float = 0.9, b2: float = 0.99) -> GradientTransformation:
    """Lion's direction (Chen et al. 2023, 'Symbolic discovery of optimization algorithms').

    .. math:: u_t = \\mathrm{sign}(β_1 m_{t−1} + (1−β_1) g_t),\\qquad
              m_t = β_2 m_{t−1} + (1 − β_2) g_t

    The interpolation ``c_t`` that is signed uses β₁; the momentum that is kept uses β₂.
    """

    def init(params):
        return LionState({k: torch.zeros_like(v) for k, v in params.items()})

    def update(grads, state, params=None, **extra):
        out = {k: torch.sign(state.mu[k].lerp(g, 1 - b1)) for k, g in grads.items()}
        mu = {k: state.mu[k].lerp(g, 1 - b2) for k, g in grads.items()}
        return out, LionState(mu)

    return GradientTransformation(init, update)


def lion(
    lr: float | Schedule = 1e-4,
    betas: tuple[float, float] = (0.9, 0.99),
    weight_decay: float = 0.0,
) -> GradientTransformation:
    """Lion (Chen et al. 2023, Algorithm 2) with decoupled weight decay.

    .. math:: c_t = β_1 m_{t−1} + (1−β_1) g_t,\\quad
              θ_t = θ_{t−1} − lr\\,(\\mathrm{sign}(c_t) + λ θ_{t−1}),\\quad
              m_t = β_2 m_{t−1} + (1−β_2) g_t

    Defaults are the paper's (β = (0.9, 0.99); lr 1e-4 as in its public implementation).
    Chen, Liang, Liu et al. 2023 ('Lion secretly solves constrained optimization') show
    that with λ > 0 it minimizes ``f`` subject to ``‖θ‖∞ ≤ 1/λ``.
    """
    check_lr(lr)
    check_betas(betas)
    check_nonnegative("weight_decay", weight_decay)
    return chain(
        scale_by_lion(betas[0], betas[1]),
        scale_by_learning_rate(lr),
        decoupled_weight_decay(lr, weight_decay),
    )

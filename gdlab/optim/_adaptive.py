"""Adaptive per-coordinate step sizes: Adagrad, diffGrad, EXAdam.

Adam itself lives in `gdlab.optim._transforms` (`scale_by_adam`). The learning rate sits
inside each transformation here because bias corrections or a decay multiply it, which
fixes the rounding order (as in ``torch.optim``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from gdlab._typing import Params
from gdlab.optim._base import GradientTransformation, Schedule, as_schedule, chain, step_count
from gdlab.optim._transforms import add_weight_decay, decoupled_weight_decay
from gdlab.optim._validation import check_betas, check_lr, check_nonnegative


class AdagradState(NamedTuple):
    """Sum of squared gradients and the step count."""

    count: Tensor  # () int64
    sum_sq: Params


def scale_by_adagrad(
    lr: float | Schedule = 1e-2,
    *,
    lr_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> GradientTransformation:
    """Adagrad's step including the learning rate (Duchi, Hazan, Singer 2011).

    .. math:: s_t = s_{t-1} + g_t^2,\\quad
              u_t = −\\frac{lr}{1 + (t−1)·\\text{lr\\_decay}}\\;\\frac{g_t}{\\sqrt{s_t} + ε},
              \\qquad s_0 = \\text{initial\\_accumulator\\_value}

    Same arithmetic order as ``torch.optim.Adagrad`` (bit for bit in float64).
    """
    sched = as_schedule(lr)

    def init(params):
        sums = {k: torch.full_like(v, initial_accumulator_value) for k, v in params.items()}
        return AdagradState(step_count(params), sums)

    def update(grads, state, params=None, **extra):
        sum_sq = {k: torch.addcmul(state.sum_sq[k], g, g, value=1) for k, g in grads.items()}
        dtype = next(iter(grads.values())).dtype if grads else torch.float64
        # torch.optim computes lr / (1 + (step − 1)·lr_decay) in Python floats (doubles);
        # float64 tensors round the same way and keep the rule vmappable.
        count = state.count.to(torch.float64)
        clr = torch.as_tensor(sched(state.count), dtype=torch.float64) / (1 + count * lr_decay)
        neg = (-clr).to(dtype)
        out = {k: (neg * g) / (sum_sq[k].sqrt() + eps) for k, g in grads.items()}
        return out, AdagradState(state.count + 1, sum_sq)

    return GradientTransformation(init, update)


def adagrad(
    lr: float | Schedule = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> GradientTransformation:
    """Adagrad with coupled L2 decay ``g ← g + λθ``, as ``torch.optim.Adagrad``.

    Defaults are ``torch.optim.Adagrad``'s.
    """
    check_lr(lr)
    for name, v in [("lr_decay", lr_decay), ("weight_decay", weight_decay),
                    ("initial_accumulator_value", initial_accumulator_value), ("eps", eps)]:
        check_nonnegative(name, v)
    parts = [add_weight_decay(weight_decay)] if weight_decay else []
    parts.append(scale_by_adagrad(lr, lr_decay=lr_decay,
                                  initial_accumulator_value=initial_accumulator_value, eps=eps))
    return chain(*parts)


class DiffGradState(NamedTuple):
    """Adam's moments, the previous gradient and the step count."""

    count: Tensor  # () int64
    mu: Params
    nu: Params
    prev_grad: Params


def scale_by_diffgrad(
    lr: float | Schedule = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """diffGrad's step (Dubey et al. 2019, IEEE TNNLS, Algorithm 1), learning rate included.

    Adam's moments, with the first moment damped by a friction coefficient
    ``ξ_t = sigmoid(|g_{t−1} − g_t|) ∈ [0.5, 1)`` taken elementwise, ``g_0 = 0``:

    .. math:: u_t = −lr\\;\\frac{ξ_t \\hat m_t}{\\sqrt{\\hat v_t} + ε},\\qquad
              \\hat m_t = \\frac{m_t}{1−β_1^t},\\ \\hat v_t = \\frac{v_t}{1−β_2^t}

    ``g_0 = 0`` and the friction on ``m̂`` follow the authors' corrected release
    (``diffGrad_v2.py``: the first release overwrote the previous gradient before use, so
    ``ξ ≡ 0.5``). ε is added to ``√v̂`` as in the paper (the authors' code adds it to
    ``√v``, a difference of ``ε(1 − √(1−β₂ᵗ))`` in the denominator).
    """
    sched = as_schedule(lr)

    def init(params):
        zeros = {k: torch.zeros_like(v) for k, v in params.items()}
        return DiffGradState(step_count(params), zeros, dict(zeros), dict(zeros))

    def update(grads, state, params=None, **extra):
        t = state.count + 1
        mu = {k: state.mu[k].lerp(g, 1 - b1) for k, g in grads.items()}
        nu = {k: torch.addcmul(state.nu[k] * b2, g, g, value=1 - b2) for k, g in grads.items()}
        tf = t.to(next(iter(grads.values())).dtype)
        bc1 = 1 - b1**tf
        bc2_sqrt = torch.sqrt(1 - b2**tf)
        step_size = torch.as_tensor(sched(state.count), dtype=tf.dtype, device=tf.device) / bc1
        out = {}
        for k, g in grads.items():
            xi = torch.sigmoid((state.prev_grad[k] - g).abs())  # friction, in [0.5, 1)
            out[k] = (-step_size * (xi * mu[k])) / (nu[k].sqrt() / bc2_sqrt + eps)
        prev = {k: g.clone() for k, g in grads.items()}
        return out, DiffGradState(t, mu, nu, prev)

    return GradientTransformation(init, update)


def diffgrad(
    lr: float | Schedule = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
) -> GradientTransformation:
    """diffGrad (Dubey et al. 2019) with coupled L2 decay ``g ← g + λθ`` (authors' code).

    Defaults are the paper's (Adam's).
    """
    check_lr(lr)
    check_betas(betas)
    check_nonnegative("eps", eps)
    check_nonnegative("weight_decay", weight_decay)
    parts = [add_weight_decay(weight_decay)] if weight_decay else []
    parts.append(scale_by_diffgrad(lr, betas[0], betas[1], eps))
    return chain(*parts)


class EXAdamState(NamedTuple):
    """Adam's moments and the step count."""

    count: Tensor  # () int64
    mu: Params
    nu: Params


def scale_by_exadam(
    lr: float | Schedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    *,
    step_growth: bool = False,
) -> GradientTransformation:
    """EXAdam's step (Adly 2024, arXiv:2412.20302), learning rate included.

    With Adam's moments ``m_t, v_t``:

    .. math::
        d_1 = 1 + β_2^t\\frac{v_t}{v_t + ε},\\quad d_2 = 1 + β_1^t\\frac{m_t^2}{m_t^2 + ε}
    .. math::
        \\tilde m = \\frac{m_t}{1−β_1^t} d_1,\\quad \\tilde v = \\frac{v_t}{1−β_2^t} d_2,\\quad
        \\tilde g = \\frac{g_t}{1−β_1^t} d_1,\\qquad
        u_t = −α_t \\frac{\\tilde m + \\tilde g}{\\sqrt{\\tilde v} + ε}

    ``α_t = lr`` (paper v2 and the authors' released ``exadam.py``); with
    ``step_growth=True``, ``α_t = lr · ln(√2 · √(t+1))``, the growing step of paper v1.
    """
    sched = as_schedule(lr)

    def init(params):
        zeros = {k: torch.zeros_like(v) for k, v in params.items()}
        return EXAdamState(step_count(params), zeros, dict(zeros))

    def update(grads, state, params=None, **extra):
        t = state.count + 1
        mu = {k: torch.add(state.mu[k] * b1, g, alpha=1 - b1) for k, g in grads.items()}
        nu = {k: torch.addcmul(state.nu[k] * b2, g, g, value=1 - b2) for k, g in grads.items()}
        tf = t.to(next(iter(grads.values())).dtype)
        b1t, b2t = b1**tf, b2**tf
        alpha = torch.as_tensor(sched(state.count), dtype=tf.dtype, device=tf.device)
        if step_growth:
            alpha = alpha * torch.log(math.sqrt(2.0) * torch.sqrt(tf + 1))
        out = {}
        for k, g in grads.items():
            m, v = mu[k], nu[k]
            d1 = 1 + v / (v + eps) * b2t
            d2 = 1 + m.square() / (m.square() + eps) * b1t
            m_tilde = m / (1 - b1t) * d1
            v_tilde = v / (1 - b2t) * d2
            g_tilde = g / (1 - b1t) * d1
            out[k] = -alpha * (m_tilde + g_tilde) / (v_tilde.sqrt() + eps)
        return out, EXAdamState(t, mu, nu)

    return GradientTransformation(init, update)


def exadam(
    lr: float | Schedule = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    step_growth: bool = False,
) -> GradientTransformation:
    """EXAdam (Adly 2024) with decoupled decay ``θ ← θ(1 − lr·λ)`` (the authors' code).

    Defaults are the authors' ``exadam.py``.
    """
    check_lr(lr)
    check_betas(betas)
    check_nonnegative("eps", eps)
    check_nonnegative("weight_decay", weight_decay)
    return chain(
        scale_by_exadam(lr, betas[0], betas[1], eps, step_growth=step_growth),
        decoupled_weight_decay(lr, weight_decay),
    )

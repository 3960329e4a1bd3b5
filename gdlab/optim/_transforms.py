"""Gradient transformations that the standard optimizers are chained from.

Each mirrors the arithmetic order of the matching ``torch.optim`` code so that, in float64,
the chained aliases reproduce ``torch.optim`` bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from gdlab._typing import Params
from gdlab.optim._base import (
    EmptyState,
    GradientTransformation,
    Schedule,
    Updates,
    as_schedule,
    keeps_lazy,
    step_count,
)


class CountState(NamedTuple):
    """A step counter: the number of updates applied so far."""

    count: Tensor  # () int64


def scale(factor: float) -> GradientTransformation:
    """``u = factor · g``."""

    def init(params):
        return EmptyState()

    def update(grads, state, params=None, **extra):
        return {k: factor * g for k, g in grads.items()}, state

    return GradientTransformation(init, update)


def scale_by_learning_rate(lr: float | Schedule) -> GradientTransformation:
    """``u = −lr_t · g`` (descent); ``lr`` may be a schedule of the step count."""
    sched = as_schedule(lr)

    def init(params):
        return CountState(step_count(params))

    def update(grads, state, params=None, **extra):
        step = -sched(state.count)
        if isinstance(step, (int, float)):
            # Lazy factor: applied as torch.add(p, g, alpha=-lr), torch.optim's own rounding.
            out = Updates(grads)
            out.alpha = float(step)
            return out, CountState(state.count + 1)
        return {k: g * step for k, g in grads.items()}, CountState(state.count + 1)

    return GradientTransformation(init, update)


def add_weight_decay(weight_decay: float) -> GradientTransformation:
    """Coupled (L2) decay added to the gradient: ``g ← g + wd · θ`` (as in ``torch.optim.SGD``)."""

    def init(params):
        return EmptyState()

    def update(grads, state, params=None, **extra):
        if weight_decay == 0:
            return grads, state
        if params is None:
            raise ValueError("add_weight_decay needs params")
        return {k: g.add(params[k], alpha=weight_decay) for k, g in grads.items()}, state

    return GradientTransformation(init, update)


def decoupled_weight_decay(lr: float | Schedule, weight_decay: float) -> GradientTransformation:
    """Decoupled decay ``θ ← θ·(1 − lr_t·wd)`` applied before the update (Loshchilov & Hutter).

    Put it last in a chain; it marks the updates so `apply_updates` decays the parameters
    first, exactly as ``torch.optim.AdamW`` does.
    """
    sched = as_schedule(lr)

    def init(params):
        return CountState(step_count(params))

    @keeps_lazy
    def update(grads, state, params=None, **extra):
        out = Updates(grads)
        out.alpha = getattr(grads, "alpha", None)
        if weight_decay != 0:
            out.param_scale = 1 - sched(state.count) * weight_decay
        return out, CountState(state.count + 1)

    return GradientTransformation(init, update)


class TraceState(NamedTuple):
    """Momentum buffer and step count."""

    count: Tensor  # () int64
    buf: Params


def trace(
    momentum: float, *, dampening: float = 0.0, nesterov: bool = False
) -> GradientTransformation:
    """Heavy-ball or Nesterov momentum, in ``torch.optim.SGD``'s form.

    .. math:: b_1 = g_1,\\quad b_t = μ b_{t-1} + (1 − τ) g_t,\\qquad
              u_t = g_t + μ b_t \\text{ (Nesterov) or } b_t.
    """
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum requires momentum > 0 and dampening = 0")

    def init(params):
        return TraceState(step_count(params), {k: torch.zeros_like(v) for k, v in params.items()})

    def update(grads, state, params=None, **extra):
        first = state.count == 0
        buf = {}
        for k, g in grads.items():
            moved = torch.add(state.buf[k] * momentum, g, alpha=1 - dampening)
            buf[k] = torch.where(first, g, moved)
        out = {k: g.add(buf[k], alpha=momentum) for k, g in grads.items()} if nesterov else buf
        return out, TraceState(state.count + 1, buf)

    return GradientTransformation(init, update)


class AdamState(NamedTuple):
    """First and second moment estimates and the step count."""

    count: Tensor  # () int64
    mu: Params
    nu: Params


def scale_by_adam(
    lr: float | Schedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """Adam's step including the learning rate (Kingma & Ba 2015, Alg. 1).

    .. math:: m_t = β_1 m_{t-1} + (1−β_1) g_t,\\quad v_t = β_2 v_{t-1} + (1−β_2) g_t^2,
    .. math:: u_t = −\\frac{lr}{1−β_1^t} \\frac{m_t}{\\sqrt{v_t}/\\sqrt{1−β_2^t} + ε}

    The learning rate sits inside because Adam's bias correction multiplies it (as in
    ``torch.optim.Adam``), which fixes the rounding order.
    """
    sched = as_schedule(lr)

    def init(params):
        zeros = {k: torch.zeros_like(v) for k, v in params.items()}
        return AdamState(step_count(params), zeros, {k: z.clone() for k, z in zeros.items()})

    def update(grads, state, params=None, **extra):
        t = state.count + 1
        mu = {k: state.mu[k].lerp(g, 1 - b1) for k, g in grads.items()}
        nu = {k: torch.addcmul(state.nu[k] * b2, g, g, value=1 - b2) for k, g in grads.items()}
        tf = t.to(next(iter(grads.values())).dtype)
        bc1 = 1 - b1**tf
        # pow(·, 0.5) rather than sqrt: torch.optim uses Python's `** 0.5`, which rounds
        # differently from sqrt in the last bit for some steps.
        bc2_sqrt = torch.pow(1 - b2**tf, torch.tensor(0.5, dtype=tf.dtype, device=tf.device))
        # Tensor / tensor: `float / tensor` would round as reciprocal-then-multiply.
        step_size = torch.as_tensor(sched(state.count), dtype=tf.dtype, device=tf.device) / bc1
        out = {k: (-step_size * mu[k]) / (nu[k].sqrt() / bc2_sqrt + eps) for k in grads}
        return out, AdamState(t, mu, nu)

    return GradientTransformation(init, update)

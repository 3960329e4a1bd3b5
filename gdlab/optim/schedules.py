"""Step-size schedules: ``schedule(count) -> value``, usable wherever a rule takes ``lr=``.

``count`` is the number of updates already applied (0 on the first step), as a 0-d integer
tensor (what the rules keep in their state) or a Python int. Values come back as 0-d
float64 tensors, so schedules run unchanged under `torch.func.vmap`. Names and
conventions follow optax.

Example:
    >>> from gdlab.optim import sgd
    >>> tx = sgd(lr=cosine_decay_schedule(0.1, decay_steps=100))
    >>> float(cosine_decay_schedule(0.1, decay_steps=100)(50))
    0.05
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from gdlab.optim._base import Schedule
from gdlab.optim._validation import check_nonnegative, check_positive, check_positive_int


def _count(count) -> Tensor:
    return torch.as_tensor(count).to(torch.float64)


def constant_schedule(value: float) -> Schedule:
    """``η_t = value``."""
    check_nonnegative("value", value)
    return lambda count: torch.full_like(_count(count), float(value))


def linear_schedule(
    init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0
) -> Schedule:
    """Linear interpolation from ``init_value`` to ``end_value`` over ``transition_steps``.

    .. math:: η_t = η_0 + (η_1 − η_0)\\,\\mathrm{clip}\\!\\left(\\frac{t − t_b}{T}, 0, 1\\right)
    """
    check_positive_int("transition_steps", transition_steps)
    check_nonnegative("transition_begin", transition_begin)

    def schedule(count):
        frac = ((_count(count) - transition_begin) / transition_steps).clamp(0.0, 1.0)
        return init_value + (end_value - init_value) * frac

    return schedule


def cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0) -> Schedule:
    """Cosine decay (Loshchilov & Hutter 2017) to ``alpha · init_value`` at ``decay_steps``.

    .. math:: η_t = η_0 \\left[(1−α)\\,\\frac{1 + \\cos(π \\min(t, T)/T)}{2} + α\\right]
    """
    check_positive_int("decay_steps", decay_steps)
    check_nonnegative("alpha", alpha)

    def schedule(count):
        t = _count(count).clamp(max=decay_steps)
        cosine = 0.5 * (1 + torch.cos(math.pi * t / decay_steps))
        return init_value * ((1 - alpha) * cosine + alpha)

    return schedule


def exponential_decay(
    init_value: float, decay_rate: float, transition_steps: int = 1, staircase: bool = False
) -> Schedule:
    """``η_t = η_0 · rate^{t/T}`` (``⌊t/T⌋`` with ``staircase``)."""
    check_positive("decay_rate", decay_rate)
    check_positive_int("transition_steps", transition_steps)

    def schedule(count):
        p = _count(count) / transition_steps
        if staircase:
            p = torch.floor(p)
        return init_value * torch.pow(torch.as_tensor(decay_rate, dtype=torch.float64), p)

    return schedule


def warmup_cosine_decay_schedule(
    init_value: float, peak_value: float, warmup_steps: int, decay_steps: int,
    end_value: float = 0.0,
) -> Schedule:
    """Linear warm-up from ``init_value`` to ``peak_value``, then cosine decay to ``end_value``.

    ``decay_steps`` counts the whole schedule, warm-up included (optax's convention).
    """
    check_positive_int("warmup_steps", warmup_steps)
    check_positive_int("decay_steps", decay_steps)
    if decay_steps <= warmup_steps:
        raise ValueError(f"decay_steps ({decay_steps}) must exceed warmup_steps ({warmup_steps})")
    warm = linear_schedule(init_value, peak_value, warmup_steps)
    span = decay_steps - warmup_steps

    def schedule(count):
        t = _count(count)
        s = ((t - warmup_steps).clamp(0.0, span)) / span
        decay = end_value + (peak_value - end_value) * 0.5 * (1 + torch.cos(math.pi * s))
        return torch.where(t < warmup_steps, warm(t), decay)

    return schedule


def piecewise_constant_schedule(
    init_value: float, boundaries_and_scales: dict[int, float] | Sequence[tuple[int, float]]
) -> Schedule:
    """``init_value`` multiplied by ``scale_b`` for every boundary ``b`` already reached.

    Example: ``piecewise_constant_schedule(0.1, {100: 0.1, 200: 0.1})`` is 0.1, then 0.01
    from step 100, then 0.001 from step 200.
    """
    items = sorted(dict(boundaries_and_scales).items())
    for b, s in items:
        check_nonnegative("boundary", b)
        check_nonnegative("scale", s)

    def schedule(count):
        t = _count(count)
        value = torch.full_like(t, float(init_value))
        for b, s in items:
            value = torch.where(t >= b, value * s, value)
        return value

    return schedule

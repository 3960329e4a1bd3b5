"""Schedules against their closed forms, and as ``lr=`` of a rule."""

from __future__ import annotations

import math

import pytest
import torch

from gdlab import optim
from gdlab.optim import schedules as S


def _values(schedule, steps):
    return [float(schedule(torch.tensor(t))) for t in steps]


def test_constant_and_linear():
    assert _values(S.constant_schedule(0.3), [0, 5]) == [0.3, 0.3]
    lin = S.linear_schedule(1.0, 0.0, transition_steps=4, transition_begin=2)
    assert _values(lin, [0, 2, 3, 6, 9]) == pytest.approx([1.0, 1.0, 0.75, 0.0, 0.0])


def test_cosine_decay_closed_form():
    sched = S.cosine_decay_schedule(0.2, decay_steps=10, alpha=0.1)
    for t in [0, 3, 10, 15]:
        m = min(t, 10)
        ref = 0.2 * (0.9 * 0.5 * (1 + math.cos(math.pi * m / 10)) + 0.1)
        assert float(sched(t)) == pytest.approx(ref, rel=1e-14)


def test_exponential_decay_with_and_without_staircase():
    smooth = S.exponential_decay(1.0, 0.5, transition_steps=2)
    stair = S.exponential_decay(1.0, 0.5, transition_steps=2, staircase=True)
    assert _values(smooth, [0, 1, 4]) == pytest.approx([1.0, 2**-0.5, 0.25])
    assert _values(stair, [0, 1, 2, 3]) == pytest.approx([1.0, 1.0, 0.5, 0.5])


def test_warmup_cosine():
    sched = S.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=4, decay_steps=12,
                                           end_value=0.1)
    assert _values(sched, [0, 2, 4, 8, 12, 20]) == pytest.approx(
        [0.0, 0.5, 1.0, 0.1 + 0.9 * 0.5, 0.1, 0.1])


def test_piecewise_constant():
    sched = S.piecewise_constant_schedule(0.1, {3: 0.5, 6: 0.1})
    assert _values(sched, [0, 2, 3, 5, 6, 9]) == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.005, 0.005])


def test_schedule_as_lr_equals_hand_written_gd():
    """sgd(lr=schedule) takes step t with lr_t (count starts at 0)."""
    sched = S.cosine_decay_schedule(0.5, decay_steps=5)
    tx = optim.sgd(lr=sched)
    p = {"w": torch.tensor([2.0, -1.0], dtype=torch.float64)}
    ref = p["w"].clone()
    state = tx.init(p)
    for t in range(6):
        grads = {"w": 2 * p["w"]}
        u, state = tx.update(grads, state, p)
        p = optim.apply_updates(p, u)
        ref = ref - float(sched(t)) * 2 * ref
    torch.testing.assert_close(p["w"], ref, rtol=1e-14, atol=0)


def test_schedules_run_under_vmap():
    sched = S.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=2, decay_steps=6)
    counts = torch.arange(8)
    batched = torch.func.vmap(sched)(counts)
    assert batched.tolist() == pytest.approx(_values(sched, range(8)))


@pytest.mark.parametrize("make", [
    lambda: S.linear_schedule(1.0, 0.0, transition_steps=0),
    lambda: S.cosine_decay_schedule(1.0, decay_steps=-1),
    lambda: S.exponential_decay(1.0, 0.0),
    lambda: S.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=5, decay_steps=5),
    lambda: S.constant_schedule(float("nan")),
])
def test_bad_schedule_arguments_raise(make):
    with pytest.raises(ValueError):
        make()

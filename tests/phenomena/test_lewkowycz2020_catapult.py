"""catapult: the three regimes on a narrow uv model, the verdict's logic, bad configs."""

from __future__ import annotations

import math

import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import lewkowycz2020_catapult as mod


def test_regimes_on_a_small_model():
    cfg = mod.Config(width=256, steps=300, lazy=(1.0,), catapult=(3.0,), divergent=(6.0,))
    ctx = RunContext(seed=1)
    values = mod.run(cfg, ctx)
    lazy, cat, div = range(3)
    assert not values["diverged"][lazy] and not values["diverged"][cat] and values["diverged"][div]
    assert abs(values["kernel_ratio"][lazy] - 1) < 0.05
    assert values["spike"][cat] > 2 and values["eta_sharpness"][cat] < 2
    v = mod.verdict(cfg, [RunRecord(1, "done", values, ctx.series_data)])
    assert len(v.checks) == 7
    mod.figure(cfg, [RunRecord(1, "done", values, ctx.series_data)])


def _record(**over):
    vals = {"regime": ["lazy", "catapult", "divergent"], "c": [1.0, 3.0, 6.0],
            "diverged": [False, False, True], "spike": [1.0, 30.0, 1e9],
            "final_loss_ratio": [1e-6, 1e-6, math.inf], "kernel_ratio": [1.0, 0.4, math.nan],
            "eta_sharpness": [1.0, 1.2, math.nan]}
    for k, (i, v) in over.items():
        vals[k][i] = v
    return RunRecord(0, "done", vals)


@pytest.mark.parametrize("over,holds", [
    ({}, True),
    ({"kernel_ratio": (0, 1.2)}, False),      # lazy kernel moved
    ({"spike": (1, 1.5)}, False),             # no catapult spike
    ({"eta_sharpness": (1, 2.5)}, False),     # did not end flatter than 2/η
    ({"diverged": (2, False)}, False),        # far above 4/λ₀ but converged
])
def test_verdict_logic(over, holds):
    cfg = mod.Config(lazy=(1.0,), catapult=(3.0,), divergent=(6.0,))
    assert mod.verdict(cfg, [_record(**over)]).holds is holds


@pytest.mark.parametrize("kwargs", [{"n": 10}, {"lazy": (2.5,)}, {"catapult": (1.5,)},
                                    {"divergent": (3.9,)}, {"catapult": ()}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

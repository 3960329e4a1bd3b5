"""batch-hessian-sharpness: a smoke run, the verdict's logic, bad configs."""

from __future__ import annotations

import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import granziol2022_batch_hessian_sharpness as mod


def test_smoke_run_and_verdict():
    cfg = mod.Config(n=200, widths=(16,), batch_sizes=(8, 32, 128), batches=4)
    ctx = RunContext(seed=0)
    values = mod.run(cfg, ctx)
    assert len(values["mean_batch_sharpness"]) == 3
    assert values["full_sharpness"] > 0
    v = mod.verdict(cfg, [RunRecord(0, "done", values, ctx.series_data)])
    assert len(v.checks) == 3
    mod.figure(cfg, [RunRecord(0, "done", values, ctx.series_data)])


@pytest.mark.parametrize("excess,slope,increases,holds", [
    ([4.0, 1.0, 0.25], -1.0, 0, True),
    ([4.0, 1.0, 0.25], -0.4, 0, False),   # 1/√B: the noise-dominated regime, not the spike
    ([4.0, 1.0, -0.1], -1.0, 0, False),   # batch Hessian flatter than the full one
    ([4.0, 1.0, 0.25], -1.0, 1, False),   # not monotone
])
def test_verdict_logic(excess, slope, increases, holds):
    cfg = mod.Config(batch_sizes=(8, 32, 128))
    rec = RunRecord(0, "done", {"excess": excess, "slope": slope, "increases": increases})
    assert mod.verdict(cfg, [rec]).holds is holds


@pytest.mark.parametrize("kwargs", [{"n": 1797}, {"batch_sizes": (8, 8, 16)},
                                    {"batch_sizes": (8, 16)}, {"batch_sizes": (8, 16, 5000)},
                                    {"batches": 0}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

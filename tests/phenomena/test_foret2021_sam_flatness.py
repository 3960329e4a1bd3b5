"""sam-flatness: a smoke run, the verdict's logic, bad configs."""

from __future__ import annotations

import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import foret2021_sam_flatness as mod


def test_smoke_run_and_verdict():
    cfg = mod.Config(n=128, widths=(16,), epochs=2, probe_every_epochs=1)
    ctx = RunContext(seed=0)
    values = mod.run(cfg, ctx)
    for key in ("sgd_sharpness", "sam_sharpness", "sgd_test_acc", "sam_train_loss"):
        assert values[key] > 0
    assert values["sharpness_ratio"] == pytest.approx(values["sam_sharpness"] / values["sgd_sharpness"])
    assert {"sgd_sharpness", "sam_sharpness", "sgd_train_loss"} <= set(ctx.series_data)
    v = mod.verdict(cfg, [RunRecord(0, "done", values, ctx.series_data)])
    assert len(v.checks) == 3
    mod.figure(cfg, [RunRecord(0, "done", values, ctx.series_data)])


@pytest.mark.parametrize("ratio,acc,loss,holds", [
    (0.5, 0.0, 1.0, True),
    (0.8, 0.0, 1.0, False),     # not flatter enough
    (0.5, -0.02, 1.0, False),   # test accuracy dropped by 2 points
    (0.5, 0.0, 3.0, False),     # flatter only because it stopped at a higher loss
])
def test_verdict_logic(ratio, acc, loss, holds):
    rec = RunRecord(0, "done", {"sharpness_ratio": ratio, "accuracy_change": acc, "loss_ratio": loss})
    assert mod.verdict(mod.Config(), [rec]).holds is holds


@pytest.mark.parametrize("kwargs", [{"n": 2000}, {"batch": 0}, {"rho": 0.0}, {"epochs": 0}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

"""edge-of-stability: a smoke run, the verdict's logic on constructed records, bad configs."""

from __future__ import annotations

import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import cohen2021_edge_of_stability as mod


def test_smoke_run_and_verdict():
    cfg = mod.Config(n=64, widths=(16, 16), lrs=(1.8, 3.0), steps=60, probe_every=10)
    ctx = RunContext(seed=0)
    values = mod.run(cfg, ctx)
    assert len(values["ratio"]) == 2
    assert set(ctx.series_data) >= {"sharpness_0", "sharpness_1", "loss_0", "loss_1"}
    steps, lam = ctx.series_data["sharpness_0"]
    assert steps[0] == 0 and steps[-1] == 60 and all(v > 0 for v in lam)
    v = mod.verdict(cfg, [RunRecord(0, "done", values, ctx.series_data)])
    assert len(v.checks) == 3 * 2
    mod.figure(cfg, [RunRecord(0, "done", values, ctx.series_data)])


def _record(ratio, initial_ratio=0.2, loss_ratio=0.1, lr=1.0):
    return RunRecord(0, "done", {"ratio": [ratio], "initial_sharpness": [initial_ratio * 2 / lr],
                                 "initial_loss": [1.0], "final_loss": [loss_ratio]})


@pytest.mark.parametrize("ratio,initial,loss,holds", [
    (1.02, 0.2, 0.1, True),
    (0.6, 0.2, 0.1, False),   # never reached 2/η
    (1.3, 0.2, 0.1, False),   # far above 2/η
    (1.0, 1.0, 0.1, False),   # started at the edge: no progressive sharpening
    (1.0, 0.2, 0.8, False),   # loss did not fall
])
def test_verdict_logic(ratio, initial, loss, holds):
    cfg = mod.Config(lrs=(1.0,))
    assert mod.verdict(cfg, [_record(ratio, initial, loss)]).holds is holds


@pytest.mark.parametrize("kwargs", [{"dataset": "cifar"}, {"lrs": ()}, {"lrs": (-1.0,)},
                                    {"probe_every": 0}, {"n": 3}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

"""linearized-dynamics: the gap metric, a smoke run and bad configs."""

from __future__ import annotations

import pytest
import torch

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import lee2019_linearized_dynamics as mod


def test_relative_gap_is_zero_for_a_perfect_prediction_and_scales():
    f0 = torch.zeros(3, 1)
    net = torch.ones(4, 3, 1)
    assert mod.relative_gap(net, net, f0) == 0.0
    assert mod.relative_gap(net, 1.1 * net, f0) == pytest.approx(0.1)


def test_smoke_run_verdict_and_figure():
    cfg = mod.Config(n=8, n_test=4, widths=(32, 256), steps=20, every=5)
    runs = [
        RunRecord(s, "done", mod.run(cfg, ctx := RunContext(seed=s)), ctx.series_data)
        for s in range(2)
    ]
    assert len(runs[0]["gap_train"]) == 2 and len(runs[0]["trajectory"]["steps"]) == 5
    v = mod.verdict(cfg, runs)
    assert v.n_seeds == 2 and len(v.checks) == 4
    assert mod.figure(cfg, runs) is not None


@pytest.mark.parametrize(
    "kw", [{"every": 0}, {"lr_fraction": 0.0}, {"n_test": 0}, {"widths": (256,)}]
)
def test_bad_config_raises(kw):
    with pytest.raises(ValueError):
        mod.Config(**kw)

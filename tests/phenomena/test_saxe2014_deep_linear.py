"""deep-linear-incremental: helpers, a smoke run, config validation."""

from __future__ import annotations

import math

import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import saxe2014_deep_linear as mod


def test_inversions_counts_out_of_order_pairs():
    assert mod.inversions([1.0, 2.0, 3.0]) == 0
    assert mod.inversions([2.0, 1.0, 3.0]) == 1
    assert mod.inversions([3.0, 2.0, 1.0]) == 3
    assert math.isnan(mod.inversions([1.0, float("nan")]))


def test_smoke_run_matches_saxe():
    cfg = mod.Config(d=4, hidden=32, singular_values=(2.0, 1.0), lr=0.05, time=12.0,
                     record_every=4)
    ctx = RunContext(seed=0)
    values = mod.run(cfg, ctx)
    assert mod.inversions(values["t_measured"]) == 0
    record = RunRecord(0, "done", values, ctx.series_data)
    assert mod.ratio_error(record) < mod.MAX_RATIO_ERROR
    assert mod.verdict(cfg, [record]).holds
    import matplotlib.pyplot as plt

    plt.close(mod.figure(cfg, [record]))


@pytest.mark.parametrize("kwargs", [{"singular_values": (1.0, 2.0)}, {"singular_values": (1.0,)},
                                    {"hidden": 2}, {"lr": 0.5}, {"d": 2}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

"""ntk-init-convergence: the slope fit, a smoke run, the verdict and bad configs."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import jacot2018_ntk_init as mod


def test_loglog_slope_recovers_a_power_law():
    w = [64, 128, 256, 512]
    slope, icpt = mod.loglog_slope(w, [3.0 * x**-0.5 for x in w])
    assert slope == pytest.approx(-0.5, abs=1e-12) and np.exp(icpt) == pytest.approx(3.0)


def test_smoke_run_verdict_and_figure():
    cfg = mod.Config(n=8, widths=(16, 64, 256), nets_per_width=1)
    runs = [
        RunRecord(s, "done", mod.run(cfg, ctx := RunContext(seed=s)), ctx.series_data)
        for s in range(2)
    ]
    assert all(0 < e < 2 for e in runs[0]["errors"])
    v = mod.verdict(cfg, runs)
    assert v.n_seeds == 2 and len(v.checks) == 2
    assert mod.figure(cfg, runs) is not None
    assert mod.max_error(cfg) == mod.MAX_ERROR[1024]


@pytest.mark.parametrize(
    "kw", [{"widths": (64,)}, {"widths": (128, 64)}, {"n": 1}, {"nets_per_width": 0}]
)
def test_bad_config_raises(kw):
    with pytest.raises(ValueError):
        mod.Config(**kw)

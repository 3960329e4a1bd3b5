"""mup-lr-transfer: the optimum estimator, a smoke run, config validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import yang2022_mup_transfer as mod


def test_optimum_is_the_parabola_vertex():
    grid = np.arange(-4.0, 4.5, 0.5)
    losses = np.exp((grid - 0.3) ** 2)  # log loss is an exact parabola with vertex 0.3
    assert mod.optimum(grid, losses) == pytest.approx(0.3, abs=1e-12)


def test_optimum_on_the_edge_or_next_to_divergence():
    grid = [0.0, 1.0, 2.0, 3.0]
    assert math.isnan(mod.optimum(grid, [1.0, 2.0, 3.0, 4.0]))  # minimum at the left edge
    assert mod.optimum(grid, [3.0, 1.0, math.inf, math.inf]) == 1.0  # no right neighbour
    assert math.isnan(mod.optimum(grid, [math.inf] * 4))


def test_smoke_run_and_verdict():
    cfg = mod.Config(widths=(16, 32), n=32, steps=10, sp_log2_lrs=(-6.0, -4.0, -2.0),
                     mup_log2_lrs=(-2.0, 0.0, 2.0))
    ctx = RunContext(seed=0)
    values = mod.run(cfg, ctx)
    assert len(values["sp_losses"]) == 2 and len(values["mup_losses"][0]) == 3
    verdict = mod.verdict(cfg, [RunRecord(0, "done", values, ctx.series_data)])
    assert verdict.n_seeds == 1 and len(verdict.checks) == 2
    import matplotlib.pyplot as plt

    plt.close(mod.figure(cfg, [RunRecord(0, "done", values, ctx.series_data)]))


@pytest.mark.parametrize("kwargs", [{"widths": (32,)}, {"sp_log2_lrs": (0.0, 1.0)},
                                    {"mup_log2_lrs": (0.0, 1.0, 3.0)}, {"optimizer": "lion"}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

"""ntk-lazy-training: target scaling, a smoke run and bad configs."""

from __future__ import annotations

import pytest
import torch

from gdlab.data import sphere
from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import chizat2019_lazy_training as mod


def test_target_has_unit_rms():
    g = torch.Generator().manual_seed(0)
    y = mod.target(sphere(50, 4, generator=g, dtype=torch.float64), 2.0, g)
    assert y.shape == (50, 1) and y.pow(2).mean().item() == pytest.approx(1.0)


def test_smoke_run_trains_to_the_loss_target_and_verdict():
    cfg = mod.Config(n=8, widths=(32, 128), max_steps=3000)
    runs = [
        RunRecord(s, "done", mod.run(cfg, ctx := RunContext(seed=s)), ctx.series_data)
        for s in range(2)
    ]
    assert runs[0]["max_final_loss"] < mod.LOSS_TARGET
    assert all(c > 0 for c in runs[0]["kernel_change"])
    v = mod.verdict(cfg, runs)
    assert v.n_seeds == 2 and len(v.checks) == 2
    assert mod.figure(cfg, runs) is not None


@pytest.mark.parametrize("kw", [{"lr_fraction": 1.0}, {"widths": (8, 8)}, {"max_steps": 0}])
def test_bad_config_raises(kw):
    with pytest.raises(ValueError):
        mod.Config(**kw)

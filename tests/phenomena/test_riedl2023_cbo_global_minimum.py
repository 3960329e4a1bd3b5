"""cbo-global-minimum: Rastrigin and its gradient, the GD baseline, and a smoke run."""

from __future__ import annotations

import pytest
import torch

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import riedl2023_cbo_global_minimum as mod


def test_rastrigin_minimum_and_gradient():
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    grad = torch.func.vmap(torch.func.grad(lambda v: mod.rastrigin(v, 1.0)))(x)
    torch.testing.assert_close(mod.rastrigin_grad(x, 1.0), grad)
    assert float(mod.rastrigin(torch.ones(3, dtype=torch.float64), 1.0)) == 0.0


def test_gd_stops_in_the_nearest_local_minimum():
    starts = torch.tensor([[0.1, -0.1], [2.1, 1.05]], dtype=torch.float64)
    out = mod.gd_from(starts, 1.0, 1e-3, 3000)
    # Local minima of the shifted Rastrigin sit near integers, pulled slightly toward x* = 1.
    assert torch.allclose(out.round(), torch.tensor([[0.0, 0.0], [2.0, 1.0]], dtype=torch.float64))
    assert (out[1, 1] - 1.0).abs() < 1e-8


def test_smoke_run_and_verdict():
    cfg = mod.Config(d=2, n_particles=30, runs_per_seed=2, steps=200, record_every=50)
    runs = [RunRecord(s, "done", mod.run(cfg, ctx := RunContext(seed=s)), ctx.series_data)
            for s in range(2)]
    v = mod.verdict(cfg, runs)
    assert v.n_seeds == 2 and len(v.checks) == 4
    assert len(runs[0]["cbo_errors"]) == 2


@pytest.mark.parametrize("kwargs", [{"gd_lr": 0.1}, {"dt": 0.0}, {"n_particles": 1}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

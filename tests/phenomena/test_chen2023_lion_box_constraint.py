"""lion-box-constraint: the box least-squares reference against scipy, and a smoke run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import lsq_linear

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import chen2023_lion_box_constraint as mod

BOX_TOL = 1e-9
"""Projected GD run to a fixed point vs scipy's bounded least squares (trust-region
reflective, tol 1e-14): both solve a strongly convex QP to ~1e-12."""


def test_projected_gd_matches_scipy_bounded_least_squares():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(40, 20, generator=g, dtype=torch.float64) / 6
    b = a @ (3 * torch.randn(20, generator=g, dtype=torch.float64))
    x = mod.box_least_squares(a, b, 2.0, 50_000)
    ref = lsq_linear(a.numpy(), b.numpy(), bounds=(-2.0, 2.0), tol=1e-14).x
    np.testing.assert_allclose(x.numpy(), ref, atol=BOX_TOL)
    assert mod.kkt_residual(a, b, x, 2.0) < 1e-12


def test_smoke_run_and_verdict():
    cfg = mod.Config(m=12, d=6, lr=1e-2, sweep_lrs=(2e-2, 1e-2), pgd_steps=5000)
    runs = [RunRecord(s, "done", mod.run(cfg, ctx := RunContext(seed=s)), ctx.series_data)
            for s in range(2)]
    v = mod.verdict(cfg, runs)
    assert v.n_seeds == 2 and len(v.checks) == 3
    assert runs[0]["max_abs_x"] <= runs[0]["radius"] + 1e-3


@pytest.mark.parametrize("kwargs", [{"m": 5, "d": 10}, {"betas": (0.9, 1.0)}, {"lr": 0.0}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

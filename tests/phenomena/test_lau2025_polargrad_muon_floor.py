"""polargrad-muon-floor: the problem's minimizer, and a smoke run."""

from __future__ import annotations

import pytest
import torch

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import lau2025_polargrad_muon_floor as mod


def test_minimizer_solves_the_matrix_equation():
    a, b, c, x_star, smooth = mod.matrix_quadratic(6, 4, 0.3, torch.Generator().manual_seed(0))
    torch.testing.assert_close(a @ x_star @ b, c)
    # L is the top eigenvalue of the Hessian B Bᵀ ⊗ AᵀA of ½‖AXB − C‖².
    hess = torch.kron(b @ b.T, a.T @ a)
    torch.testing.assert_close(torch.linalg.eigvalsh(hess).max(),
                               torch.tensor(smooth, dtype=torch.float64))


def test_smoke_run_and_verdict():
    cfg = mod.Config(rows=4, cols=3, polargrad_steps=300, muon_lrs=(3e-2, 1e-2), time=3.0)
    runs = [RunRecord(0, "done", mod.run(cfg, ctx := RunContext(seed=0)), ctx.series_data)]
    v = mod.verdict(cfg, runs)
    assert v.n_seeds == 1 and len(v.checks) == 3
    assert runs[0]["polargrad_loss"] < runs[0]["muon_min_loss"]


@pytest.mark.parametrize("kwargs", [{"muon_lrs": (1e-2,)}, {"tail": 0.0}, {"rows": 0}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

import pytest
import torch

from gdlab.optim import gd
from gdlab.theory import min_norm_solution, ridgeless_risk
from gdlab.train import train


@pytest.mark.parametrize("n,p", [(30, 10), (10, 30), (20, 20)])
def test_min_norm_equals_pinv(n, p):
    g = torch.Generator().manual_seed(n * p)
    x = torch.randn(n, p, generator=g, dtype=torch.float64)
    y = torch.randn(n, 3, generator=g, dtype=torch.float64)
    ref = torch.linalg.pinv(x) @ y
    assert torch.allclose(min_norm_solution(x, y), ref, rtol=1e-9, atol=1e-10)


def test_min_norm_on_rank_deficient_design():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(12, 3, generator=g, dtype=torch.float64)
    x = a @ torch.randn(3, 8, generator=g, dtype=torch.float64)  # rank 3 < min(n, p)
    y = torch.randn(12, generator=g, dtype=torch.float64)
    ref = torch.linalg.pinv(x, rtol=1e-10) @ y
    assert torch.allclose(min_norm_solution(x, y, rcond=1e-10), ref, rtol=1e-7, atol=1e-9)


def test_gd_from_zero_reaches_min_norm():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(15, 40, generator=g, dtype=torch.float64)
    y = torch.randn(15, generator=g, dtype=torch.float64)
    lr = 1.0 / torch.linalg.eigvalsh(x @ x.T / 15).max().item()
    res = train(lambda p: 0.5 * (x @ p["w"] - y).pow(2).mean(), {"w": torch.zeros(40, dtype=torch.float64)},
                gd(lr), 3000)
    assert torch.allclose(res.params["w"], min_norm_solution(x, y), atol=1e-8)


def test_risk_closed_form_values():
    # σ²γ/(1−γ) and r²(1−1/γ) + σ²/(γ−1) at hand-computed points.
    assert ridgeless_risk(0.25, signal=2.0, noise=3.0) == pytest.approx(9 * 0.25 / 0.75)
    assert ridgeless_risk(4.0, signal=2.0, noise=3.0) == pytest.approx(4 * 0.75 + 9 / 3)
    assert ridgeless_risk(1.0, signal=1.0, noise=1.0) == float("inf")
    with pytest.raises(ValueError):
        ridgeless_risk(0.0, signal=1.0, noise=1.0)


def test_finite_sample_variance_term():
    """Monte Carlo at γ = 0.5: E‖β̂ − β‖² = σ² p/(n − p − 1) (inverse-Wishart mean) ≈ theory."""
    g = torch.Generator().manual_seed(2)
    n, p, sigma = 200, 100, 0.7
    vals = []
    for _ in range(40):
        x = torch.randn(n, p, generator=g, dtype=torch.float64)
        eps = sigma * torch.randn(n, 32, generator=g, dtype=torch.float64)
        vals.append(min_norm_solution(x, eps).pow(2).sum(0).mean().item())  # β = 0: pure variance
    mc = sum(vals) / len(vals)
    assert mc == pytest.approx(sigma**2 * p / (n - p - 1), rel=0.03)
    assert mc == pytest.approx(ridgeless_risk(0.5, signal=1.0, noise=sigma), rel=0.04)

"""Stochastic Lanczos quadrature: exact moments, and convergence to the exact density."""

import pytest
import torch

from gdlab.probes.curvature import (
    LinearOperator,
    slq,
    slq_density,
    smooth_density,
    spectral_density,
)


def _matrix(size=150, seed=0):
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(size, size, generator=g, dtype=torch.float64))
    # A bulk near zero and a few outliers, like a network's Hessian.
    lam = torch.cat([0.05 * torch.randn(size - 5, generator=g, dtype=torch.float64),
                     torch.tensor([1.0, 1.5, 2.0, 3.0, 4.0], dtype=torch.float64)])
    return Q @ torch.diag(lam) @ Q.T, lam


def _l1(a, b, grid):
    return float(torch.trapezoid((a - b).abs(), grid))


def test_gauss_quadrature_is_exact_for_low_moments():
    # m Lanczos steps from v integrate polynomials of degree < 2m exactly: Σ τ θ^p = vᵀA^p v.
    A, _ = _matrix()
    g = torch.Generator().manual_seed(1)
    nodes, weights, used = slq(LinearOperator.from_dense(A), 8, 1, generator=torch.Generator().manual_seed(1))
    v = (2 * torch.randint(0, 2, (A.shape[0],), generator=g, dtype=torch.int8) - 1).double()
    v = v / v.norm()
    assert used == 8
    assert weights.sum().item() == pytest.approx(1.0, abs=1e-12)
    Apv = v.clone()
    for p in range(1, 16):
        Apv = A @ Apv
        assert float((weights * nodes**p).sum()) == pytest.approx(float(v @ Apv), rel=1e-8, abs=1e-12)


def test_density_converges_to_the_exact_smoothed_density():
    A, lam = _matrix()
    sigma = 0.05
    grid = torch.linspace(-0.5, 4.5, 801, dtype=torch.float64)
    exact = smooth_density(lam[None], torch.full((1, lam.numel()), 1 / lam.numel(),
                                                  dtype=torch.float64), grid, sigma)
    errors = {}
    for probes in (1, 8, 64):
        d = slq_density(LinearOperator.from_dense(A), 40, probes, sigma=sigma, grid=grid,
                        generator=torch.Generator().manual_seed(7))
        assert d.num_matvecs == 40 * probes
        assert float(torch.trapezoid(d.density, grid)) == pytest.approx(1.0, abs=1e-3)
        errors[probes] = _l1(d.density, exact, grid)
    # Monte-Carlo error ∝ 1/√(probes·P): 64 probes cut it by well over half of 8× (2.8×).
    assert errors[64] < errors[1] / 3, errors
    assert errors[64] < 0.05, errors


def test_full_krylov_space_recovers_the_eigenvalues():
    A, lam = _matrix(size=40)
    nodes, weights, _ = slq(LinearOperator.from_dense(A), 40, 1, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(nodes[0], torch.sort(lam).values, atol=1e-8)


def test_hessian_density_api_and_outliers(case):
    H = case.dense_hessian()
    lam = torch.linalg.eigvalsh(H)
    steps = min(30, H.shape[0])
    d = spectral_density(case.model, case.loss_fn, case.x, case.y, steps=steps, probes=2,
                         params=case.params, generator=torch.Generator().manual_seed(0))
    assert d.grid.shape == d.density.shape == (1000,)
    assert d.nodes.shape == (2, steps)
    # Extreme Ritz values converge first: the largest node is the top eigenvalue.
    assert float(d.nodes.max()) == pytest.approx(float(lam[-1]), rel=1e-6)
    assert float(d.nodes.min()) >= float(lam[0]) - 1e-9
    assert (d.density >= 0).all()


def test_bad_arguments():
    op = LinearOperator.from_dense(torch.eye(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="steps"):
        slq(op, 0)
    with pytest.raises(ValueError, match="sigma"):
        smooth_density(torch.zeros(1, 1), torch.ones(1, 1), torch.zeros(3), 0.0)
    with pytest.raises(ValueError, match="curvature"):
        spectral_density(lambda p, x: x, None, torch.zeros(2, 1), torch.zeros(2),
                         params={"a": torch.zeros(1)}, curvature="fisher")

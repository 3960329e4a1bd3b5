"""Consensus-based optimization against a NumPy transcription and on convex problems."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gdlab.optim import cbo

CBO_RTOL = 1e-12
"""Same float64 operations in another order (softmax vs explicit log-sum-exp)."""


def np_consensus(x, fx, alpha):
    """v_α = Σ x_j e^{−αf_j} / Σ e^{−αf_j}, stabilized by subtracting min f (Pinnau et al.)."""
    w = np.exp(-alpha * (fx - fx.min()))
    return (w[:, None] * x).sum(0) / w.sum()


def np_cbo_step(x, f, xi, lam, sigma, alpha, dt, anisotropic):
    """Euler–Maruyama step of CBO (Riedl et al. 2023, eq. (1.2); Carrillo et al. 2021)."""
    v = np_consensus(x, f(x), alpha)
    d = x - v
    noise = d * xi if anisotropic else np.linalg.norm(d, axis=1, keepdims=True) * xi
    return x - lam * dt * d + sigma * math.sqrt(dt) * noise


def _rastrigin_np(x):
    return 10 * x.shape[-1] + (x**2 - 10 * np.cos(2 * np.pi * x)).sum(-1)


def _rastrigin(x):
    return 10 * x.shape[-1] + (x**2 - 10 * torch.cos(2 * math.pi * x)).sum(-1)


@pytest.mark.parametrize("anisotropic", [True, False])
@pytest.mark.parametrize("alpha", [1.0, 1e4])
def test_steps_match_numpy_transcription(anisotropic, alpha):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 4)) * 2
    state = cbo.cbo_init(torch.from_numpy(x), _rastrigin, alpha=alpha)
    hyper = {"lam": 1.0, "sigma": 0.8, "alpha": alpha, "dt": 0.05}
    for _ in range(5):
        xi = rng.standard_normal(x.shape)
        x = np_cbo_step(x, _rastrigin_np, xi, anisotropic=anisotropic, **hyper)
        state = cbo.cbo_step(state, _rastrigin, torch.from_numpy(xi), anisotropic=anisotropic,
                             **hyper)
    np.testing.assert_allclose(state.particles.numpy(), x, rtol=CBO_RTOL, atol=1e-12)
    v = np_consensus(x, _rastrigin_np(x), alpha)
    np.testing.assert_allclose(state.consensus.numpy(), v, rtol=CBO_RTOL, atol=1e-12)


def test_consensus_limits():
    """α = 0 gives the mean; large α the best particle; huge values do not overflow."""
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, -1.0]], dtype=torch.float64)
    f = torch.tensor([5.0, 1.0, 3.0], dtype=torch.float64)
    torch.testing.assert_close(cbo.consensus_point(x, f, 0.0), x.mean(0))
    torch.testing.assert_close(cbo.consensus_point(x, f, 1e6), x[1])
    assert torch.isfinite(cbo.consensus_point(x, f * 1e8, 1e4)).all()


QUADRATIC_TOL = 0.05
"""‖v_T − x*‖∞ after 500 steps, N = 100, α = 10³, on ‖x − 0.5‖² from N(0, I₃) starts.
Measured over 8 seeds: max 6.4e-3 (isotropic σ = 0.8), 2.4e-2 (anisotropic σ = 1); the
best initial particle is ~0.36 away, so the bound needs the dynamics, not luck."""


@pytest.mark.parametrize("anisotropic,sigma", [(False, 0.8), (True, 1.0)])
def test_finds_minimum_of_a_convex_quadratic(anisotropic, sigma):
    f = lambda x: ((x - 0.5) ** 2).sum(-1)  # noqa: E731
    x0 = torch.randn(100, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    res = cbo.cbo_minimize(f, x0, steps=500, lam=1.0, sigma=sigma, alpha=1e3, dt=0.02,
                           anisotropic=anisotropic, generator=torch.Generator().manual_seed(1),
                           record_every=100)
    assert (res.state.consensus - 0.5).abs().max() < QUADRATIC_TOL
    best0 = x0[f(x0).argmin()]
    assert (res.state.consensus - 0.5).abs().max() < (best0 - 0.5).abs().max() / 5
    assert res.steps == [0, 100, 200, 300, 400, 500]
    assert res.consensus_path.shape == (6, 3)


def test_independent_runs_on_leading_axes_equal_separate_runs():
    """Particles (R, N, d): R runs at once equal R runs one by one with the same noise."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, 20, 2, generator=g, dtype=torch.float64)
    noise = torch.randn(4, 3, 20, 2, generator=g, dtype=torch.float64)
    hyper = {"lam": 1.0, "sigma": 1.0, "alpha": 30.0, "dt": 0.1}
    batch = cbo.cbo_init(x, _rastrigin, alpha=30.0)
    for t in range(4):
        batch = cbo.cbo_step(batch, _rastrigin, noise[t], **hyper)
    for r in range(3):
        one = cbo.cbo_init(x[r], _rastrigin, alpha=30.0)
        for t in range(4):
            one = cbo.cbo_step(one, _rastrigin, noise[t, r], **hyper)
        torch.testing.assert_close(batch.particles[r], one.particles, rtol=CBO_RTOL, atol=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"steps": 0}, "steps"),
    ({"dt": 0.0}, "dt"),
    ({"sigma": -1.0}, "sigma"),
])
def test_bad_hyperparameters_raise(kwargs, match):
    hyper = {"steps": 2, "lam": 1.0, "sigma": 1.0, "alpha": 1.0, "dt": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        cbo.cbo_minimize(_rastrigin, torch.zeros(4, 2), **hyper)


def test_noise_shape_is_checked():
    state = cbo.cbo_init(torch.zeros(4, 2), _rastrigin, alpha=1.0)
    with pytest.raises(ValueError, match="noise"):
        cbo.cbo_step(state, _rastrigin, torch.zeros(4, 3), lam=1, sigma=1, alpha=1, dt=0.1)

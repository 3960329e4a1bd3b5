"""Sven / minimum-norm Gauss–Newton steps against NumPy's pseudo-inverse and lstsq."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gdlab import optim

STEP_RTOL = 1e-9
"""float64 SVD-based solves of well-conditioned (cond < 1e3) systems agree to ~1e-13;
1e-9 leaves room for the conditioning and still catches a missing Σ⁻¹ or a transpose."""


def _linear(n: int, p: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, p, generator=g, dtype=torch.float64)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    w0 = torch.randn(p, generator=g, dtype=torch.float64)
    return x, y, {"w": w0}


def _step(tx, params, residual_fn, **extra):
    state = tx.init(params)
    grads = {k: torch.zeros_like(v) for k, v in params.items()}
    u, _ = tx.update(grads, state, params, **optim.residual_jacobian(residual_fn, params), **extra)
    return optim.apply_updates(params, u)


def test_one_full_step_solves_underparametrized_least_squares():
    """P < B, k = P, lr = 1: one step lands on the least-squares solution (notes P69 (i))."""
    x, y, p = _linear(20, 5)
    out = _step(optim.sven(1.0, rtol=0.0), p, lambda q: x @ q["w"] - y)
    ref, *_ = np.linalg.lstsq(x.numpy(), y.numpy(), rcond=None)
    np.testing.assert_allclose(out["w"].numpy(), ref, rtol=STEP_RTOL)


def test_one_full_step_interpolates_with_minimum_norm_change():
    """P > B: zero residual, and the change is the pseudo-inverse (minimum-norm) one."""
    x, y, p = _linear(6, 15, seed=1)
    out = _step(optim.sven(1.0, rtol=0.0), p, lambda q: x @ q["w"] - y)
    np.testing.assert_allclose((x @ out["w"] - y).numpy(), 0.0, atol=1e-10)
    r0 = (x @ p["w"] - y).numpy()
    ref_change = -np.linalg.pinv(x.numpy()) @ r0
    np.testing.assert_allclose((out["w"] - p["w"]).numpy(), ref_change, rtol=STEP_RTOL)


@pytest.mark.parametrize("lr,k,rtol", [(0.5, None, 1e-3), (1.0, 3, 1e-3), (0.3, 4, 0.2)])
def test_truncated_step_matches_numpy_truncated_pinv(lr, k, rtol):
    """A two-leaf nonlinear model: the step is −lr·V_kΣ_k⁻¹U_kᵀr with Sven's truncation."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(12, 3, generator=g, dtype=torch.float64)
    y = torch.randn(12, generator=g, dtype=torch.float64)
    params = {"W": torch.randn(4, 3, generator=g, dtype=torch.float64),
              "a": torch.randn(4, generator=g, dtype=torch.float64)}

    def residual_fn(q):
        return torch.tanh(x @ q["W"].T) @ q["a"] - y

    rj = optim.residual_jacobian(residual_fn, params)
    jac = np.concatenate([rj["jacobian"][n].reshape(12, -1).numpy() for n in ("W", "a")], 1)
    r = rj["residuals"].numpy()
    u, s, vt = np.linalg.svd(jac, full_matrices=False)
    keep = (s > rtol * s[0]) & (np.arange(len(s)) < (k or len(s)))
    ref = -lr * (vt[keep].T @ ((u[:, keep].T @ r) / s[keep]))
    out = _step(optim.sven(lr, k=k, rtol=rtol), params, residual_fn)
    got = np.concatenate([(out[n] - params[n]).reshape(-1).numpy() for n in ("W", "a")])
    np.testing.assert_allclose(got, ref, rtol=STEP_RTOL, atol=1e-13)


def test_damped_step_is_levenberg_marquardt():
    """damping δ: Δθ = −Jᵀ(JJᵀ + δI)⁻¹ r, written independently with a linear solve."""
    x, y, p = _linear(8, 12, seed=3)
    delta = 0.7
    out = _step(optim.sven(1.0, rtol=0.0, damping=delta), p, lambda q: x @ q["w"] - y)
    j, r = x.numpy(), (x @ p["w"] - y).numpy()
    ref = -j.T @ np.linalg.solve(j @ j.T + delta * np.eye(8), r)
    np.testing.assert_allclose((out["w"] - p["w"]).numpy(), ref, rtol=STEP_RTOL)


def test_kappa_two_is_sven_default_residual():
    """κ = 2 uses ℓ_i itself as the residual; κ = 1 uses √ℓ_i (Sven's wrapper)."""
    x, y, p = _linear(10, 3, seed=4)

    def sq(q):
        return (x @ q["w"] - y) ** 2

    r2 = optim.residual_jacobian(sq, p)["residuals"]
    r1 = optim.residual_jacobian(sq, p, kappa=1.0)["residuals"]
    torch.testing.assert_close(r2, sq(p))
    torch.testing.assert_close(r1, (x @ p["w"] - y).abs())


def test_sven_without_residuals_says_what_to_pass():
    x, y, p = _linear(5, 2)
    tx = optim.sven()
    with pytest.raises(ValueError, match="residual"):
        tx.update(p, tx.init(p), p)

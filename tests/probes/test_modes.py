"""Singular-mode tracking: closed forms against an ODE solver and against GD itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from gdlab.probes import modes

RTOL = 1e-10
ODE_RTOL = 1e-7  # solve_ivp at rtol 1e-10: its own error is far below this


def orthogonal(n, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return torch.as_tensor(q)


def test_end_to_end_and_mode_strengths():
    ws = [torch.randn(5, 3, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64),
          torch.randn(2, 4, dtype=torch.float64)]
    torch.testing.assert_close(modes.end_to_end(ws), ws[2] @ ws[1] @ ws[0])
    u, v = orthogonal(4, 0)[:, :3], orthogonal(5, 1)[:, :3]
    s = torch.tensor([3.0, 2.0, 0.5], dtype=torch.float64)
    w = u @ torch.diag(s) @ v.T
    torch.testing.assert_close(modes.mode_strengths(w, u, v), s)
    torch.testing.assert_close(modes.mode_overlaps(w, u, v), torch.diag(s))
    with pytest.raises(ValueError):
        modes.end_to_end([ws[0], ws[0]])


@pytest.mark.parametrize("s,u0", [(2.0, 1e-3), (0.5, 1e-4), (5.0, 0.3)])
def test_saxe_closed_form_solves_its_ode(s, u0):
    """τ u̇ = 2u(s − u) (balanced one-hidden-layer mode) integrated numerically."""
    t = np.linspace(0, 12 / s, 40)
    sol = solve_ivp(lambda _, u: 2 * u * (s - u), (0, t[-1]), [u0], t_eval=t, rtol=1e-10,
                    atol=1e-14)
    np.testing.assert_allclose(modes.saxe_strength(t, s, u0), sol.y[0], rtol=ODE_RTOL)


def test_learning_time_inverts_the_strength():
    s, u0 = np.array([4.0, 2.0, 1.0]), np.array([1e-3, 2e-3, 1e-4])
    for frac in (0.1, 0.5, 0.9):
        t = modes.saxe_learning_time(s, u0, frac=frac)
        np.testing.assert_allclose(modes.saxe_strength(t, s, u0), frac * s, rtol=RTOL)
    # Half-time: τ/(2s) ln(s/u0 − 1).
    np.testing.assert_allclose(modes.saxe_learning_time(s, u0), np.log(s / u0 - 1) / (2 * s))
    with pytest.raises(ValueError):
        modes.saxe_learning_time(1.0, 0.7, frac=0.5)


def test_crossing_times_interpolate_linearly():
    t = [0.0, 1.0, 2.0, 3.0]
    vals = np.array([[0.0, 0.0], [1.0, 0.2], [2.0, 0.4], [3.0, 0.6]])
    np.testing.assert_allclose(modes.crossing_times(t, vals, [1.5, 1.0]), [1.5, np.nan])


def test_gd_on_a_balanced_aligned_two_layer_net_follows_saxe():
    """GD with step η on ½‖W2 W1 − M‖² from a balanced mode-aligned init: t = η·step."""
    d, h, eta, steps = 3, 5, 1e-3, 6000
    u, v, r = orthogonal(d, 2), orthogonal(d, 3), orthogonal(h, 4)[:, :d]
    s = torch.tensor([3.0, 1.5, 0.75], dtype=torch.float64)
    a0 = torch.tensor([0.03, 0.02, 0.04], dtype=torch.float64)  # per-layer mode amplitudes
    m = u @ torch.diag(s) @ v.T
    w1, w2 = r @ torch.diag(a0) @ v.T, u @ torch.diag(a0) @ r.T  # balanced: W1W1ᵀ=W2ᵀW2
    u0 = (a0**2).numpy()
    np.testing.assert_allclose(modes.effective_initial_strength(w1, w2, u, v).numpy(), u0,
                               rtol=RTOL)
    record = {}
    for k in range(steps + 1):
        if k % 1000 == 0:
            record[k] = modes.mode_strengths(w2 @ w1, u, v).numpy()
        r_ = w2 @ w1 - m
        w1, w2 = w1 - eta * w2.T @ r_, w2 - eta * r_ @ w1.T
    for k, got in record.items():
        # Forward Euler on a smooth ODE: O(η) relative error over these horizons.
        np.testing.assert_allclose(got, modes.saxe_strength(eta * k, s.numpy(), u0), rtol=2e-2)

"""Polar factors and Newton–Schulz against scipy, and how non-matrix leaves are read."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlab import optim
from gdlab.optim._orthogonal import CUBIC_COEFFICIENTS

POLAR_TOL = 1e-10
"""SVD-based and scipy's polar factors of matrices with condition number < 1e3 agree to
~1e-13 in float64."""


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 6), cols=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_polar_svd_matches_scipy_and_is_orthogonal(rows, cols, seed):
    a = np.random.default_rng(seed).standard_normal((rows, cols))
    u_ref, _ = scipy.linalg.polar(a)
    u = optim.polar_svd(torch.from_numpy(a)).numpy()
    np.testing.assert_allclose(u, u_ref, atol=POLAR_TOL)
    k = min(rows, cols)
    gram = u.T @ u if rows >= cols else u @ u.T
    np.testing.assert_allclose(gram, np.eye(k), atol=POLAR_TOL)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5)])
def test_cubic_newton_schulz_converges_to_exact_polar(shape):
    a = torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    u = optim.newton_schulz(a, steps=30, coefficients=CUBIC_COEFFICIENTS, dtype=None)
    u_ref, _ = scipy.linalg.polar(a.numpy())
    np.testing.assert_allclose(u.numpy(), u_ref, atol=POLAR_TOL)


def test_muon_quintic_is_only_approximately_orthogonal():
    """Keller Jordan's coefficients leave singular values in about [0.7, 1.2], not at 1."""
    a = torch.randn(30, 20, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    s = torch.linalg.svdvals(optim.newton_schulz(a, dtype=None))
    assert 0.6 < s.min() < 1.0 < s.max() < 1.3


def test_batched_matrices_equal_one_by_one():
    a = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    for fn in (optim.polar_svd, lambda x: optim.newton_schulz(x, dtype=None)):
        out = fn(a)
        for i in range(3):
            torch.testing.assert_close(out[i], fn(a[i]), rtol=1e-12, atol=1e-13)


def test_vectors_are_row_matrices_so_polargrad_on_a_vector_is_gd():
    """polar(g) = g/‖g‖ and ‖g‖_* = ‖g‖ for a 1 × n matrix: PolarGrad's step is −lr·g."""
    g = torch.tensor([3.0, -4.0, 12.0], dtype=torch.float64)
    torch.testing.assert_close(optim.polar_svd(g), g / 13)
    p = {"b": torch.zeros(3, dtype=torch.float64), "s": torch.zeros((), dtype=torch.float64)}
    grads = {"b": g, "s": torch.tensor(-2.0, dtype=torch.float64)}
    tx = optim.polargrad(0.1)
    u, _ = tx.update(grads, tx.init(p), p)
    step = optim.materialize(u)
    torch.testing.assert_close(step["b"], -0.1 * g)
    torch.testing.assert_close(step["s"], torch.tensor(0.2, dtype=torch.float64))


def test_polargrad_step_has_nuclear_norm_scale():
    """⟨G, Δ⟩ = −lr‖G‖_*² and ‖Δ‖_F² = lr²‖G‖_*²·rank (notes P59 [D])."""
    g = torch.randn(6, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    p = {"W": torch.zeros_like(g)}
    tx = optim.polargrad(0.3)
    u, _ = tx.update({"W": g}, tx.init(p), p)
    step = optim.materialize(u)["W"]
    nuc = torch.linalg.svdvals(g).sum()
    torch.testing.assert_close((g * step).sum(), -0.3 * nuc**2)
    torch.testing.assert_close((step**2).sum(), 0.09 * nuc**2 * 4)

"""Feature change, kernel alignment, CKA and effective rank against closed forms and numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import entropy

from gdlab.probes import features as F

RTOL = 1e-10  # float64 closed forms and a second code path: rounding only


def rand(*shape, seed=0):
    return torch.as_tensor(np.random.default_rng(seed).standard_normal(shape))


def test_feature_change_closed_form():
    h0 = rand(10, 4)
    assert F.feature_change(h0, 1.3 * h0) == pytest.approx(0.3, rel=RTOL)
    assert F.feature_change(h0, h0) == 0.0
    with pytest.raises(ValueError):
        F.feature_change(h0, h0[:5])
    with pytest.raises(ValueError):
        F.feature_change(torch.zeros(3, 2), torch.ones(3, 2))


def test_kernel_alignment_matches_numpy_and_bounds():
    x, z = rand(12, 5), rand(12, 3, seed=1)
    k1, k2 = F.gram(x), F.gram(z)
    a, b = k1.numpy(), k2.numpy()
    ref = np.sum(a * b) / np.linalg.norm(a) / np.linalg.norm(b)
    assert F.kernel_alignment(k1, k2) == pytest.approx(ref, rel=RTOL)
    assert F.kernel_alignment(k1, 2.0 * k1) == pytest.approx(1.0, rel=RTOL)
    assert F.kernel_alignment(k1, -k1) == pytest.approx(-1.0, rel=RTOL)


def test_centered_alignment_uses_hkh():
    x, z = rand(9, 4, seed=2), rand(9, 6, seed=3)
    k1, k2 = F.gram(x).numpy(), F.gram(z).numpy()
    h = np.eye(9) - np.ones((9, 9)) / 9
    a, b = h @ k1 @ h, h @ k2 @ h
    ref = np.sum(a * b) / np.linalg.norm(a) / np.linalg.norm(b)
    got = F.centered_alignment(torch.as_tensor(k1), torch.as_tensor(k2))
    assert got == pytest.approx(ref, rel=RTOL)


def test_linear_cka_feature_formula_equals_kernel_route():
    """Two code paths: ‖ỸᵀX̃‖²/(‖X̃ᵀX̃‖‖ỸᵀỸ‖) and centred alignment of the Gram matrices."""
    x, z = rand(15, 4, seed=4), rand(15, 7, seed=5)
    assert F.cka(x, z) == pytest.approx(F.centered_alignment(F.gram(x), F.gram(z)), rel=RTOL)


@pytest.mark.parametrize("p,k", [(4, 1), (6, 3), (5, 5)])
def test_cka_of_a_subset_of_orthonormal_centred_columns(p, k):
    """X̃ᵀX̃ = I_p and Y = X[:, :k]: CKA = k/(√p·√k) = √(k/p)."""
    n = 20
    g = np.random.default_rng(6).standard_normal((n, p))
    g -= g.mean(0)
    q, _ = np.linalg.qr(g)  # columns orthonormal and still centred (span of centred vectors)
    x = torch.as_tensor(q)
    assert F.cka(x, x[:, :k]) == pytest.approx(np.sqrt(k / p), rel=RTOL)


@settings(max_examples=20, deadline=None)
@given(scale=st.floats(0.01, 100.0), seed=st.integers(0, 1000))
def test_cka_invariant_to_orthogonal_maps_and_isotropic_scaling(scale, seed):
    x, z = rand(10, 4, seed=seed), rand(10, 3, seed=seed + 1)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((4, 4)))
    base = F.cka(x, z)
    assert F.cka(scale * x @ torch.as_tensor(q), z) == pytest.approx(base, rel=1e-9)
    assert F.cka(x, x) == pytest.approx(1.0, rel=1e-12)


def test_target_alignment_of_the_label_kernel_is_one():
    y = torch.tensor([0, 1, 2, 1, 0, 2])
    ky = F.label_kernel(y)
    assert ky[0, 4] == 1 and ky[0, 1] == 0
    assert F.target_alignment(ky, y) == pytest.approx(1.0, rel=RTOL)
    ys = torch.tensor([1.0, -1.0, 1.0, -1.0])
    assert F.target_alignment(torch.eye(4), ys) == pytest.approx(4 / (2 * 4), rel=RTOL)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_effective_rank_and_participation_of_k_equal_singular_values(k):
    u, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((10, 10)))
    v, _ = np.linalg.qr(np.random.default_rng(8).standard_normal((8, 8)))
    s = np.zeros((10, 8))
    s[np.arange(k), np.arange(k)] = 2.0
    x = torch.as_tensor(u @ s @ v.T)
    assert F.effective_rank(x) == pytest.approx(k, rel=1e-9)
    assert F.participation_ratio(x) == pytest.approx(k, rel=1e-9)


def test_effective_rank_matches_scipy_entropy():
    x = rand(9, 6, seed=9)
    s = np.linalg.svd(x.numpy(), compute_uv=False)
    assert F.effective_rank(x) == pytest.approx(np.exp(entropy(s / s.sum())), rel=RTOL)


def test_bad_kernels_raise():
    with pytest.raises(ValueError):
        F.kernel_alignment(torch.ones(3, 3), torch.ones(4, 4))
    with pytest.raises(ValueError):
        F.centered_alignment(torch.ones(3, 2), torch.ones(3, 2))
    with pytest.raises(ValueError):
        F.effective_rank(torch.zeros(3, 3))

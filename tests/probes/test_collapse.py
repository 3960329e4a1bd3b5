"""NC1-NC4 against direct float64 computations, on collapsed and uncollapsed features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gdlab.probes import collapse as nc

# Exact collapse gives 0 up to rounding of a few float64 operations on O(1) numbers.
EXACT_ZERO = 1e-12
# Direct numpy computation vs the SVD route: same math, different rounding (and a pinv
# threshold far from every retained eigenvalue).
RTOL = 1e-8


def simplex_etf(c: int, p: int, seed: int = 0) -> np.ndarray:
    """``(C, p)`` unit vectors with pairwise cosine −1/(C−1), in a random C-dim subspace."""
    rng = np.random.default_rng(seed)
    m = np.sqrt(c / (c - 1)) * (np.eye(c) - np.ones((c, c)) / c)  # columns: ETF in R^C
    q, _ = np.linalg.qr(rng.standard_normal((p, c)))  # (p, C) orthonormal embedding
    return (q @ m).T


def direct_metrics(h: np.ndarray, y: np.ndarray, w: np.ndarray, pred: np.ndarray) -> dict:
    """Papyan, Han & Donoho (2020) definitions written out with explicit loops and pinv."""
    c = y.max() + 1
    n, p = h.shape
    mu_g = h.mean(0)
    means = np.stack([h[y == k].mean(0) for k in range(c)])
    sw = np.zeros((p, p))
    for i in range(n):
        r = h[i] - means[y[i]]
        sw += np.outer(r, r) / n
    sb = sum(np.outer(means[k] - mu_g, means[k] - mu_g) for k in range(c)) / c
    nc1 = np.trace(sw @ np.linalg.pinv(sb, rcond=1e-10, hermitian=True)) / c
    md = means - mu_g
    cos = np.array([[md[a] @ md[b] / np.linalg.norm(md[a]) / np.linalg.norm(md[b])
                     for b in range(c)] for a in range(c)])
    off = [cos[a, b] for a in range(c) for b in range(c) if a != b]
    nc2 = np.mean([abs(v + 1 / (c - 1)) for v in off])
    nc3 = np.sum((w / np.linalg.norm(w) - md / np.linalg.norm(md)) ** 2)
    ncc = np.array([np.argmin([np.linalg.norm(h[i] - means[k]) for k in range(c)])
                    for i in range(n)])
    nc4 = np.mean(ncc != pred)
    return {"nc1": nc1, "nc2": nc2, "nc3": nc3, "nc4": nc4, "mean_cos": np.mean(off)}


def as_t(*arrays):
    return [torch.as_tensor(a) for a in arrays]


@pytest.mark.parametrize("c,p,per", [(3, 5, 4), (5, 20, 7), (10, 12, 3)])
def test_exact_simplex_etf_collapse_gives_zero(c, p, per):
    means = 2.5 * simplex_etf(c, p)
    y = np.repeat(np.arange(c), per)
    h = means[y]
    ht, yt, wt = as_t(h, y, means)
    assert nc.nc1(ht, yt) < EXACT_ZERO
    assert nc.nc2(ht, yt) < EXACT_ZERO
    assert nc.mean_pairwise_cosine(ht, yt) == pytest.approx(-1 / (c - 1), abs=EXACT_ZERO)
    assert nc.equinorm(ht, yt) < EXACT_ZERO
    assert nc.nc3(ht, yt, wt) < EXACT_ZERO
    logits = wt @ ht.T
    assert nc.nc4(ht, yt, logits.T) == 0.0


def test_isotropic_within_class_noise_has_closed_form_nc1():
    """Σ_W = σ²I exactly and unit ETF means: NC1 = σ²(C−1)²/C (Σ_B = P_span/(C−1))."""
    c, p, sigma = 4, 6, 0.3
    means = simplex_etf(c, p, seed=1)
    resid = np.concatenate([sigma * np.sqrt(p) * np.eye(p), -sigma * np.sqrt(p) * np.eye(p)])
    h = np.concatenate([means[k] + resid for k in range(c)])
    y = np.repeat(np.arange(c), 2 * p)
    got = nc.nc1(*as_t(h, y))
    assert got == pytest.approx(sigma**2 * (c - 1) ** 2 / c, rel=RTOL)


@pytest.mark.parametrize("counts", [(6, 6, 6, 6), (3, 9, 5, 7)])
def test_uncollapsed_features_match_direct_computation(counts):
    rng = np.random.default_rng(3)
    c, p = len(counts), 9
    y = np.concatenate([np.full(k, i) for i, k in enumerate(counts)])
    h = rng.standard_normal((len(y), p)) + 0.5 * rng.standard_normal((c, p))[y]
    w = rng.standard_normal((c, p))
    pred = rng.integers(0, c, len(y))
    ref = direct_metrics(h, y, w, pred)
    ht, yt, wt, pt = as_t(h, y, w, pred)
    assert nc.nc1(ht, yt) == pytest.approx(ref["nc1"], rel=RTOL)
    assert nc.nc2(ht, yt) == pytest.approx(ref["nc2"], rel=RTOL)
    assert nc.nc3(ht, yt, wt) == pytest.approx(ref["nc3"], rel=RTOL)
    assert nc.nc4(ht, yt, pt) == pytest.approx(ref["nc4"])
    assert nc.mean_pairwise_cosine(ht, yt) == pytest.approx(ref["mean_cos"], rel=RTOL)


def test_nc1_is_invariant_to_rotation_and_scale_and_float32_agrees():
    rng = np.random.default_rng(4)
    y = np.repeat(np.arange(5), 8)
    h = rng.standard_normal((40, 7)) + rng.standard_normal((5, 7))[y]
    q, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    base = nc.nc1(*as_t(h, y))
    assert nc.nc1(*as_t(3.0 * h @ q, y)) == pytest.approx(base, rel=RTOL)
    h32 = torch.as_tensor(h, dtype=torch.float32)
    assert nc.nc1(h32, torch.as_tensor(y)) == pytest.approx(base, rel=1e-5)


def test_nc4_counts_disagreements_between_net_and_nearest_centre():
    means = simplex_etf(3, 4)
    y = np.repeat(np.arange(3), 2)
    h = means[y]
    pred = y.copy()
    pred[0] = 2  # one disagreement in six
    assert nc.nc4(*as_t(h, y, pred)) == pytest.approx(1 / 6)


@pytest.mark.parametrize("bad", ["missing_class", "float_labels", "shape", "one_class"])
def test_bad_input_raises(bad):
    h = torch.randn(6, 3)
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    if bad == "missing_class":
        y = torch.tensor([0, 0, 2, 2, 2, 2])
    elif bad == "float_labels":
        y = y.double()
    elif bad == "shape":
        h = torch.randn(5, 3)
    elif bad == "one_class":
        y = torch.zeros(6, dtype=torch.long)
    with pytest.raises(ValueError):
        nc.nc1(h, y)


def test_nc3_rejects_wrong_classifier_shape():
    with pytest.raises(ValueError, match="classifier"):
        nc.nc3(torch.randn(6, 3), torch.tensor([0, 0, 1, 1, 2, 2]), torch.randn(3, 4))

"""Gaussian mixtures and XOR clusters: geometry, balance, label noise."""

from __future__ import annotations

import pytest
import torch

from gdlab.data import gaussian_mixture, xor_clusters


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_gaussian_mixture_geometry_balance_and_noise():
    ds = gaussian_mixture(400, 10, 4, separation=5.0, noise_std=0.5, label_noise=0.2,
                          n_test=200, generator=gen(), dtype=torch.float64)
    m = ds.meta["means"]
    torch.testing.assert_close(m @ m.T, 25.0 * torch.eye(4, dtype=torch.float64))
    clean = ds.meta["y_train_clean"]
    assert torch.bincount(clean).tolist() == [100] * 4
    # Residuals from the clean class means have the requested std.
    resid = ds.x_train - m[clean]
    assert resid.std().item() == pytest.approx(0.5, rel=0.05)
    flipped = ds.meta["flipped"]
    assert torch.equal(flipped, ds.y_train != clean)  # a flip always changes the class
    assert flipped.double().mean().item() == pytest.approx(0.2, abs=0.06)
    assert torch.bincount(ds.y_test).tolist() == [50] * 4  # test labels are clean
    assert ds.y_train.dtype == torch.long


def test_gaussian_mixture_more_classes_than_dimensions():
    ds = gaussian_mixture(60, 2, 6, generator=gen(1))
    assert ds.meta["means"].shape == (6, 2) and ds.x_train.shape == (60, 2)


def test_xor_clusters_geometry_and_labels():
    d = 400
    ds = xor_clusters(2000, d, label_noise=0.15, n_test=500, generator=gen(2),
                      dtype=torch.float64)
    mu1, mu2 = ds.meta["mu1"], ds.meta["mu2"]
    assert mu1 @ mu2 == pytest.approx(0.0, abs=1e-9)
    assert mu1.norm().item() == pytest.approx(d**0.4, rel=1e-12)  # ‖μ‖² = d^0.8
    c = ds.meta["cluster"]
    centres = torch.stack([mu1, -mu1, mu2, -mu2])
    noise = ds.x_train - centres[c]
    assert noise.pow(2).mean().item() == pytest.approx(1.0, rel=0.02)
    clean = ds.meta["y_train_clean"]
    assert torch.equal(clean, torch.where(c < 2, 1.0, -1.0).double())  # ±μ1 → +1, ±μ2 → −1
    assert torch.equal(ds.meta["flipped"], ds.y_train != clean)
    assert ds.meta["flipped"].double().mean().item() == pytest.approx(0.15, abs=0.03)
    # XOR: the clean label is even in x, so the best linear rule is at chance.
    tc = ds.meta["cluster_test"]
    assert torch.equal(ds.y_test, torch.where(tc < 2, 1.0, -1.0).double())


def test_xor_clusters_mean_norm_override_and_determinism():
    a = xor_clusters(10, 50, mean_norm=3.0, generator=gen(5))
    b = xor_clusters(10, 50, mean_norm=3.0, generator=gen(5))
    assert torch.equal(a.x_train, b.x_train)
    assert a.meta["mu1"].norm().item() == pytest.approx(3.0, rel=1e-6)


@pytest.mark.parametrize("call", [
    lambda: gaussian_mixture(10, 3, 1),
    lambda: gaussian_mixture(10, 3, 2, label_noise=0.5),
    lambda: gaussian_mixture(10, 3, 2, separation=-1.0),
    lambda: xor_clusters(10, 1),
    lambda: xor_clusters(10, 5, mean_norm=0.0),
    lambda: xor_clusters(0, 5),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


def test_balanced_xor_clusters_condition_on_the_typical_sample():
    ds = xor_clusters(50, 30, label_noise=0.1, balanced=True, generator=gen(7))
    c, flipped = ds.meta["cluster"], ds.meta["flipped"]
    counts = torch.bincount(c, minlength=4).tolist()
    assert counts == [13, 13, 12, 12]
    # round(0.1 · 13) = round(0.1 · 12) = 1 flip per cluster, and nothing else.
    assert [int(flipped[c == k].sum()) for k in range(4)] == [1, 1, 1, 1]
    assert torch.equal(flipped, ds.y_train != ds.meta["y_train_clean"])

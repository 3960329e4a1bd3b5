"""Cluster data: Gaussian mixtures and high-dimensional XOR clusters, with label noise.

Both return a `Dataset` whose ``meta`` holds the cluster means, the cluster of every point
and which training labels were flipped. Test labels are clean (the Bayes-relevant target);
``meta["y_test_noisy"]`` carries test labels with the same noise for a noisy test set.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gdlab.data.dataset import Dataset, _check_positive, default_dtype


def _check_noise(label_noise: float) -> None:
    if not 0 <= label_noise < 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5), got {label_noise}")


def _orthonormal(d: int, k: int, generator, dtype) -> Tensor:
    """``k`` random orthonormal columns in ``R^d`` (QR of a Gaussian matrix): ``(d, k)``."""
    q, r = torch.linalg.qr(torch.randn(d, k, generator=generator, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))  # unique QR: Haar-distributed columns
    return q.to(dtype)


def gaussian_mixture(
    n: int,
    d: int,
    k: int,
    *,
    separation: float = 3.0,
    noise_std: float = 1.0,
    label_noise: float = 0.0,
    n_test: int = 1000,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> Dataset:
    """``k`` balanced Gaussian classes ``x = μ_c + noise_std · ξ``, ``ξ ~ N(0, I_d)``.

    The means are ``separation`` times ``k`` orthonormal random directions when ``k ≤ d``
    (pairwise distance ``separation·√2``), and i.i.d. ``N(0, separation²/d · I)`` otherwise.
    Classes are balanced (``n // k`` or one more each), then shuffled. With ``label_noise``
    ``η``, each training label is replaced with probability ``η`` by a uniformly drawn
    *different* class.

    Returns:
        `Dataset` with ``x: (n, d)``, integer ``y: (n,)`` in ``0..k−1``; ``meta``: ``means
        (k, d)``, ``flipped (n,)`` bool, ``y_test_noisy``.
    """
    _check_positive(n=n, d=d, k=k, n_test=n_test, noise_std=noise_std)
    _check_noise(label_noise)
    if k < 2:
        raise ValueError(f"need k >= 2 classes, got {k}")
    if separation < 0:
        raise ValueError(f"separation must be >= 0, got {separation}")
    dt = default_dtype(dtype)
    if k <= d:
        means = separation * _orthonormal(d, k, generator, dt).T
    else:
        means = torch.randn(k, d, generator=generator, dtype=dt) * (separation / math.sqrt(d))

    def draw(m: int) -> tuple[Tensor, Tensor]:
        y = torch.arange(m) % k
        y = y[torch.randperm(m, generator=generator)]
        x = means[y] + noise_std * torch.randn(m, d, generator=generator, dtype=dt)
        return x, y

    x_tr, y_clean = draw(n)
    x_te, y_te = draw(n_test)
    y_tr, flipped = _flip_classes(y_clean, k, label_noise, generator)
    y_te_noisy, _ = _flip_classes(y_te, k, label_noise, generator)
    return Dataset(x_tr, y_tr, x_te, y_te, {
        "means": means, "flipped": flipped, "y_train_clean": y_clean,
        "y_test_noisy": y_te_noisy, "label_noise": label_noise, "separation": separation,
    })


def _flip_classes(y: Tensor, k: int, eta: float, generator) -> tuple[Tensor, Tensor]:
    flip = torch.rand(y.shape[0], generator=generator, dtype=torch.float64) < eta
    # A uniform *other* class: add 1..k−1 modulo k.
    shift = torch.randint(1, k, y.shape, generator=generator)
    return torch.where(flip, (y + shift) % k, y), flip


def xor_clusters(
    n: int,
    d: int,
    *,
    mean_norm: float | None = None,
    label_noise: float = 0.1,
    n_test: int = 1000,
    balanced: bool = False,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> Dataset:
    """High-dimensional XOR clusters (Xu, Wang, Frei, Vardi & Hu 2023).

    Two orthogonal means ``μ_1 ⊥ μ_2`` of norm ``mean_norm`` (default ``d^0.4``, i.e.
    ``‖μ‖² = d^0.8`` as in that paper's experiments); each point picks one of the four
    clusters ``±μ_1`` (clean label ``+1``) and ``±μ_2`` (label ``−1``) uniformly and is
    ``x = μ + ξ``, ``ξ ~ N(0, I_d)``. Each training label is flipped with probability
    ``label_noise``. No linear classifier beats chance on the clean labels (the XOR
    symmetry ``x ↦ −x`` keeps the label), so generalization needs a nonlinear feature.

    With ``balanced=True`` the *training* sample is conditioned on its typical configuration:
    the four clusters get ``n // 4`` points each (the first ``n mod 4`` clusters one more) and
    exactly ``round(label_noise · count)`` labels are flipped in each cluster. Small samples
    otherwise often hold a cluster whose labels are mostly flipped. Test data stay i.i.d.

    Returns:
        `Dataset` with ``x: (n, d)``, ``y: (n,)`` in ``{−1, +1}`` (float); ``meta``:
        ``mu1``, ``mu2`` ``(d,)``, ``cluster (n,)`` in ``0..3`` (``+μ_1, −μ_1, +μ_2, −μ_2``),
        ``flipped (n,)``, ``y_train_clean``, ``y_test_noisy``, ``balanced``.
    """
    _check_positive(n=n, d=d, n_test=n_test)
    _check_noise(label_noise)
    if d < 2:
        raise ValueError("XOR clusters need d >= 2 for two orthogonal means")
    r = d**0.4 if mean_norm is None else float(mean_norm)
    if r <= 0:
        raise ValueError(f"mean_norm must be positive, got {mean_norm}")
    dt = default_dtype(dtype)
    basis = _orthonormal(d, 2, generator, dt)
    mu1, mu2 = r * basis[:, 0], r * basis[:, 1]
    centres = torch.stack([mu1, -mu1, mu2, -mu2])  # (4, d)
    signs = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=dt)

    def draw(m: int) -> tuple[Tensor, Tensor, Tensor]:
        c = torch.randint(0, 4, (m,), generator=generator)
        x = centres[c] + torch.randn(m, d, generator=generator, dtype=dt)
        return x, signs[c], c

    if balanced:
        c_tr = (torch.arange(n) % 4)[torch.randperm(n, generator=generator)]
        x_tr = centres[c_tr] + torch.randn(n, d, generator=generator, dtype=dt)
        y_clean = signs[c_tr]
    else:
        x_tr, y_clean, c_tr = draw(n)
    x_te, y_te, c_te = draw(n_test)
    if balanced:
        flipped = _flip_per_cluster(c_tr, label_noise, generator)
        y_tr = torch.where(flipped, -y_clean, y_clean)
    else:
        y_tr, flipped = _flip_signs(y_clean, label_noise, generator)
    y_te_noisy, _ = _flip_signs(y_te, label_noise, generator)
    return Dataset(x_tr, y_tr, x_te, y_te, {
        "mu1": mu1, "mu2": mu2, "cluster": c_tr, "cluster_test": c_te, "flipped": flipped,
        "y_train_clean": y_clean, "y_test_noisy": y_te_noisy, "label_noise": label_noise,
        "mean_norm": r, "balanced": balanced,
    })


def _flip_per_cluster(cluster: Tensor, eta: float, generator) -> Tensor:
    """Exactly ``round(eta · count)`` uniformly chosen points of every cluster."""
    flip = torch.zeros(cluster.shape[0], dtype=torch.bool)
    for k in range(int(cluster.max()) + 1):
        idx = torch.nonzero(cluster == k).reshape(-1)
        chosen = idx[torch.randperm(idx.numel(), generator=generator)[:round(eta * idx.numel())]]
        flip[chosen] = True
    return flip


def _flip_signs(y: Tensor, eta: float, generator) -> tuple[Tensor, Tensor]:
    flip = torch.rand(y.shape[0], generator=generator, dtype=torch.float64) < eta
    return torch.where(flip, -y, y), flip

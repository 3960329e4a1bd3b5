"""Synthetic data with known ground truth: teachers, separable sets, random features.

Every generator takes a ``generator`` (``torch.Generator``) and returns a `Dataset` whose
``meta`` holds the ground truth.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gdlab.data.dataset import Dataset, _check_positive, default_dtype


def linear_separable(
    n: int,
    d: int,
    *,
    margin: float = 0.1,
    n_test: int = 1000,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> Dataset:
    """Linearly separable labels through the origin with a guaranteed margin.

    ``x ~ N(0, I_d)`` conditioned on ``|u·x| ≥ margin`` for a random unit teacher ``u``
    (rejection sampling), ``y = sign(u·x) ∈ {−1, +1}``. No bias term, so the max-margin
    separator passes through the origin, as in Soudry et al. (2018).

    Returns:
        `Dataset` with ``x: (n, d)``, ``y: (n,)``; ``meta["teacher"]`` is ``u``.
    """
    _check_positive(n=n, d=d)
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    dt = default_dtype(dtype)
    u = torch.randn(d, generator=generator, dtype=dt)
    u = u / u.norm()

    def draw(m: int) -> tuple[Tensor, Tensor]:
        xs = []
        have = 0
        while have < m:
            x = torch.randn(2 * m + 16, d, generator=generator, dtype=dt)
            x = x[(x @ u).abs() >= margin]
            xs.append(x)
            have += x.shape[0]
        x = torch.cat(xs)[:m]
        return x, torch.sign(x @ u)

    x_tr, y_tr = draw(n)
    x_te, y_te = draw(n_test)
    return Dataset(x_tr, y_tr, x_te, y_te, {"teacher": u, "margin": margin})


def linear_teacher(
    n: int,
    p: int,
    *,
    signal: float = 1.0,
    noise: float = 0.0,
    cov_eigs: Tensor | None = None,
    n_test: int = 1000,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> Dataset:
    """Linear regression ``y = x·β + ε`` with ``‖β‖ = signal`` and ``ε ~ N(0, noise²)``.

    ``x ~ N(0, Σ)`` with diagonal ``Σ = diag(cov_eigs)`` (isotropic when ``None``): the
    setting of Hastie, Montanari, Rosset & Tibshirani (2019). ``meta`` holds ``beta``,
    ``noise`` and the covariance eigenvalues.
    """
    _check_positive(n=n, p=p)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    dt = default_dtype(dtype)
    eigs = torch.ones(p, dtype=dt) if cov_eigs is None else cov_eigs.to(dt)
    if eigs.shape != (p,) or bool((eigs < 0).any()):
        raise ValueError("cov_eigs must be a nonnegative vector of length p")
    beta = torch.randn(p, generator=generator, dtype=dt)
    beta = signal * beta / beta.norm()
    scale = eigs.sqrt()

    def draw(m: int) -> tuple[Tensor, Tensor]:
        x = torch.randn(m, p, generator=generator, dtype=dt) * scale
        return x, x @ beta + noise * torch.randn(m, generator=generator, dtype=dt)

    x_tr, y_tr = draw(n)
    x_te, y_te = draw(n_test)
    return Dataset(x_tr, y_tr, x_te, y_te, {"beta": beta, "noise": noise, "cov_eigs": eigs})


def random_relu_features(
    x: Tensor, n_features: int, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Random ReLU features ``φ(x) = relu(x Wᵀ/√d)·√(2/N)``, ``W ~ N(0, 1)^{N×d}``.

    The ``√(2/N)`` makes ``φ(x)·φ(x')`` an unbiased estimate of the arc-cosine kernel
    (Cho & Saul 2009) normalized so that ``E‖φ(x)‖² = ‖x‖²/d``.

    Returns:
        ``(features (n, N), W (N, d))``; pass the same ``W`` to `relu_features` for test data.
    """
    _check_positive(n_features=n_features)
    d = x.shape[1]
    w = torch.randn(n_features, d, generator=generator, dtype=x.dtype)
    return relu_features(x, w), w


def relu_features(x: Tensor, w: Tensor) -> Tensor:
    """``relu(x Wᵀ/√d)·√(2/N)`` for given weights ``W: (N, d)``."""
    n_features, d = w.shape
    return torch.relu(x @ w.T / math.sqrt(d)) * math.sqrt(2.0 / n_features)


def sphere(n: int, d: int, *, generator: torch.Generator | None = None,
           dtype: torch.dtype | None = None) -> Tensor:
    """``n`` points uniform on the unit sphere ``S^{d−1}``: ``(n, d)``."""
    x = torch.randn(n, d, generator=generator, dtype=default_dtype(dtype))
    return x / x.norm(dim=1, keepdim=True)

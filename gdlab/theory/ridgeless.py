"""Ridgeless (minimum-norm) least squares and its double-descent risk curve.

Hastie, Montanari, Rosset & Tibshirani (2019), Theorem 1 (isotropic features): with
``x ~ N(0, I_p)``, ``y = x·β + ε``, ``‖β‖ = r``, ``Var ε = σ²`` and ``γ = p/n`` as
``n, p → ∞``, the min-norm least-squares estimator ``β̂ = X⁺y`` has excess test risk

.. math:: R(γ) = \\begin{cases} σ^2 \\dfrac{γ}{1-γ} & γ < 1 \\\\[4pt]
          r^2 \\left(1 - \\dfrac1γ\\right) + \\dfrac{σ^2}{γ - 1} & γ > 1 \\end{cases}

which diverges at the interpolation threshold ``γ = 1``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def ridgeless_risk(gamma: float, *, signal: float, noise: float) -> float:
    """Asymptotic excess test risk ``E[(x·(β̂ − β))²]`` of min-norm least squares.

    Args:
        gamma: aspect ratio ``p/n`` (> 0, ≠ 1).
        signal: ``r = ‖β‖``.
        noise: ``σ``, the label-noise standard deviation.

    Example:
        >>> ridgeless_risk(0.5, signal=1.0, noise=1.0)
        1.0
        >>> ridgeless_risk(2.0, signal=1.0, noise=1.0)
        1.5
    """
    if gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma}")
    s2 = noise**2
    if gamma == 1:
        return math.inf
    if gamma < 1:
        return s2 * gamma / (1 - gamma)
    return signal**2 * (1 - 1 / gamma) + s2 / (gamma - 1)


def min_norm_solution(x: Tensor, y: Tensor, *, rcond: float | None = None) -> Tensor:
    """``X⁺ y``: the least-squares solution of minimum Euclidean norm, ``(p,)`` or ``(p, k)``.

    Computed with LAPACK ``gelsd`` (SVD, divide and conquer), which returns the minimum-norm
    solution for rank-deficient and underdetermined systems, so it is exact in both regimes
    ``p < n`` and ``p > n``. Not ``gelsy``: it is about 2× faster, but MKL's gelsy gave
    different last bits from one process to the next on identical inputs (a 100 × 90 system,
    1 thread), which broke bit-identical reruns. CUDA has no such driver, so the solve runs on
    the CPU.
    """
    dev = x.device
    sol = torch.linalg.lstsq(x.cpu(), y.cpu(), rcond=rcond, driver="gelsd").solution
    return sol.to(dev)

"""Spectral density of a curvature operator by stochastic Lanczos quadrature (SLQ).

The spectral measure of a symmetric ``A`` (size ``P``, eigenpairs ``λ_i, u_i``) is
``μ = (1/P) Σ_i δ_{λ_i}``. For a random unit vector ``v`` with ``E[vvᵀ] = I/P``,
``μ_v = Σ_i (u_iᵀv)² δ_{λ_i}`` has mean ``μ``; ``m`` steps of Lanczos from ``v`` give the
``m``-point Gauss quadrature of ``μ_v``: nodes ``θ_j`` (eigenvalues of ``T_m``) and weights
``τ_j = s_{1j}²`` (first components of its eigenvectors), exact for polynomials of degree
``< 2m``. Averaging over probes and smoothing with a Gaussian of width ``σ`` gives

.. math:: φ(t) = \\frac{1}{n_v} \\sum_{l=1}^{n_v} \\sum_{j=1}^{m} τ_{l,j}\\,
          \\mathcal{N}(t;\\, θ_{l,j}, σ^2),

a density that integrates to 1 (Lin, Saad & Yang 2016; Ghorbani, Krishnan & Xiao 2019).

References:
    Lin, Saad & Yang, "Approximating spectral densities of large matrices", SIAM Review 2016.
    Ghorbani, Krishnan & Xiao, "An investigation into neural net optimization via Hessian
    eigenvalue density", ICML 2019.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from gdlab._typing import LossFn, ModelFn, Params
from gdlab.probes.curvature.lanczos import lanczos_iterations
from gdlab.probes.curvature.operators import LinearOperator, ggn_operator, hessian_operator
from gdlab.probes.curvature.trace import rademacher

DEFAULT_SIGMA_FRACTION = 0.01
"""Default Gaussian width as a fraction of the span of the nodes: wide enough that a density
from ~100 nodes is not a comb, narrow enough to resolve outliers 5% of the span apart."""


class SpectralDensity(NamedTuple):
    """An SLQ estimate of the spectral density.

    Attributes:
        grid: ``(num_points,)`` evaluation points.
        density: ``(num_points,)`` smoothed density on ``grid`` (integrates to ≈1).
        nodes: ``(probes, steps)`` quadrature nodes (Ritz values); padded rows have weight 0.
        weights: ``(probes, steps)`` quadrature weights; each row sums to 1.
        sigma: the Gaussian width used.
        num_matvecs: products of the operator used.
    """

    grid: Tensor
    density: Tensor
    nodes: Tensor
    weights: Tensor
    sigma: float
    num_matvecs: int


def slq(
    op: LinearOperator, steps: int, probes: int = 1, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor, int]:
    """Gauss quadrature nodes and weights ``(probes, steps)`` (float64) and products used.

    Each probe starts Lanczos from a normalized Rademacher vector (``E[vvᵀ] = I/P``).
    """
    if steps < 1 or probes < 1:
        raise ValueError(f"steps and probes must be >= 1, got steps={steps}, probes={probes}")
    start = op.num_matvecs
    m = min(steps, op.size)
    nodes = torch.zeros((probes, m), dtype=torch.float64)
    weights = torch.zeros((probes, m), dtype=torch.float64)
    for l in range(probes):
        v = rademacher(op.size, 1, generator=generator, dtype=torch.float64)[:, 0]
        *_, st = lanczos_iterations(op, m, v0=v, generator=generator)  # the last state
        theta, S = torch.linalg.eigh(st.tridiagonal())
        nodes[l, : st.m] = theta
        weights[l, : st.m] = S[0] ** 2
        if st.m < m:  # invariant subspace: pad with the last node at zero weight
            nodes[l, st.m:] = theta[-1]
    return nodes, weights, op.num_matvecs - start


def smooth_density(nodes: Tensor, weights: Tensor, grid: Tensor, sigma: float) -> Tensor:
    """``(1/n_v) Σ_{l,j} τ_{l,j} N(grid; θ_{l,j}, σ²)`` for nodes/weights ``(n_v, m)``."""
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    g = grid.to(torch.float64)[:, None]  # (G, 1)
    th, w = nodes.reshape(1, -1), weights.reshape(1, -1) / nodes.shape[0]
    kern = torch.exp(-0.5 * ((g - th) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    return (kern * w).sum(dim=1)


def slq_density(
    op: LinearOperator,
    steps: int = 100,
    probes: int = 1,
    *,
    num_points: int = 1000,
    sigma: float | None = None,
    grid: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> SpectralDensity:
    """Spectral density of ``op`` by SLQ with ``steps`` Lanczos steps per probe.

    Args:
        op: a symmetric `LinearOperator`.
        steps: Lanczos steps (products) per probe.
        probes: number of random start vectors.
        num_points: grid size when ``grid`` is not given.
        sigma: Gaussian width (default `DEFAULT_SIGMA_FRACTION` of the node span).
        grid: evaluation points (default: the node span padded by 5% and 3σ).
        generator: RNG for the probes.
    """
    nodes, weights, used = slq(op, steps, probes, generator=generator)
    lo, hi = float(nodes.min()), float(nodes.max())
    span = (hi - lo) or max(abs(hi), 1.0)
    sigma = DEFAULT_SIGMA_FRACTION * span if sigma is None else float(sigma)
    if grid is None:
        if num_points < 2:
            raise ValueError(f"num_points must be >= 2, got {num_points}")
        pad = 0.05 * span + 3 * sigma
        grid = torch.linspace(lo - pad, hi + pad, num_points, dtype=torch.float64)
    density = smooth_density(nodes, weights, grid, sigma)
    return SpectralDensity(grid.to(torch.float64), density, nodes, weights, sigma, used)


def spectral_density(
    model: nn.Module | ModelFn,
    loss_fn: LossFn,
    x: Tensor,
    y: Tensor,
    *,
    steps: int = 100,
    probes: int = 1,
    num_points: int = 1000,
    sigma: float | None = None,
    grid: Tensor | None = None,
    curvature: str = "hessian",
    params: Params | None = None,
    generator: torch.Generator | None = None,
    chunk_size: int | None = None,
    reduction: str = "mean",
) -> SpectralDensity:
    """Spectral density of the loss Hessian (or GGN) by SLQ; see `slq_density`.

    ``model, loss_fn, x, y, params, chunk_size, reduction`` as in `hessian_operator`;
    ``curvature`` is ``"hessian"`` or ``"ggn"``.
    """
    builders = {"hessian": hessian_operator, "ggn": ggn_operator}
    if curvature not in builders:
        raise ValueError(f"curvature must be one of {sorted(builders)}, got {curvature!r}")
    op = builders[curvature](model, loss_fn, x, y, params=params, chunk_size=chunk_size,
                             reduction=reduction)
    return slq_density(op, steps, probes, num_points=num_points, sigma=sigma, grid=grid,
                       generator=generator)

"""The trace of a curvature operator: Hutchinson, Hutch++, and the exact GGN trace.

Hutchinson (1989): for Rademacher ``z`` (i.i.d. ±1), ``E[zᵀAz] = tr(A)`` with variance
``2(‖A‖_F² − Σ_i A_ii²)``, so ``m`` probes give an error ``O(‖A‖_F/√m)``.

Hutch++ (Meyer, Musco, Musco & Woodruff 2021, Algorithm 1) spends a third of the products on a
sketch ``Q = orth(A S)`` of the top eigenspace, takes its trace exactly, and applies Hutchinson
only to the deflated rest:

.. math:: \\mathrm{tr}(A) ≈ \\mathrm{tr}(Q^\\top A Q)
          + \\tfrac{1}{m_G} \\mathrm{tr}\\big(G^\\top (I − QQ^\\top) A (I − QQ^\\top) G\\big),

error ``O(1/m)`` instead of ``O(1/√m)`` for PSD ``A``; the gain is large when the spectrum
decays (the Hessian of a trained network, with its few outliers).

`ggn_trace` is exact: ``tr(G) = Σ_i tr(H_i J_i J_iᵀ)`` with per-sample Jacobians ``J_i``
``(k, P)`` and output Hessians ``H_i`` ``(k, k)``. For piecewise-linear networks (ReLU, no
normalization) every output is linear in each single parameter, the diagonal of each output's
Hessian vanishes, and ``tr(∇²L) = tr(G)``: an exact Hessian trace in ``k`` backward passes.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from gdlab._typing import LossFn, ModelFn, Params
from gdlab.probes.curvature.operators import (
    LinearOperator,
    chunks,
    ggn_operator,
    hessian_operator,
    resolve_model,
)

_JACOBIAN_BUDGET = 2**25
"""Elements of per-sample Jacobians materialized at once by `ggn_trace` (128 MiB in float32)."""


class TraceEstimate(NamedTuple):
    """A trace estimate.

    Attributes:
        trace: the estimate.
        std_error: its estimated standard error (from the spread of the Hutchinson terms; 0 for
            an exact part).
        num_matvecs: products of the operator used.
    """

    trace: float
    std_error: float
    num_matvecs: int


def rademacher(size: int, m: int, *, generator=None, dtype=torch.float64, device="cpu") -> Tensor:
    """``(size, m)`` matrix of i.i.d. ±1 entries (drawn on CPU, so results match across devices)."""
    z = torch.randint(0, 2, (size, m), generator=generator, dtype=torch.int8)
    return (2 * z - 1).to(dtype=dtype, device=device)


def hutchinson(
    op: LinearOperator, num_probes: int, *, generator: torch.Generator | None = None
) -> TraceEstimate:
    """Hutchinson's estimate ``(1/m) Σ_j z_jᵀ A z_j`` with ``m`` Rademacher probes.

    Example:
        >>> A = torch.diag(torch.arange(1.0, 5.0, dtype=torch.float64))
        >>> hutchinson(LinearOperator.from_dense(A), 3).trace  # exact for diagonal A
        10.0
    """
    if num_probes < 1:
        raise ValueError(f"num_probes must be >= 1, got {num_probes}")
    start = op.num_matvecs
    terms = torch.empty(num_probes, dtype=torch.float64)
    for j in range(num_probes):
        z = rademacher(op.size, 1, generator=generator, dtype=op.dtype, device=op.device)[:, 0]
        terms[j] = float(torch.dot(z, op.matvec(z)))
    return TraceEstimate(float(terms.mean()), _std_error(terms), op.num_matvecs - start)


def hutchpp(
    op: LinearOperator, num_matvecs: int, *, generator: torch.Generator | None = None
) -> TraceEstimate:
    """Hutch++ with a budget of ``num_matvecs`` products (Meyer et al. 2021, Algorithm 1).

    A third of the budget sketches ``Q = orth(A S)``, a third computes ``A Q`` for the exact
    part, the rest is Hutchinson on ``(I − QQᵀ) A (I − QQᵀ)``.
    """
    if num_matvecs < 3:
        raise ValueError(f"Hutch++ needs num_matvecs >= 3, got {num_matvecs}")
    start = op.num_matvecs
    s = min(num_matvecs // 3, op.size)
    m_g = num_matvecs - 2 * s
    S = rademacher(op.size, s, generator=generator, dtype=op.dtype, device=op.device)
    Q, _ = torch.linalg.qr(op.matmat(S))  # (size, s)
    exact = float(torch.trace(Q.T @ op.matmat(Q)))
    if s == op.size:  # Q spans the space: the trace is exact, nothing is left to estimate
        return TraceEstimate(exact, 0.0, op.num_matvecs - start)
    terms = torch.empty(m_g, dtype=torch.float64)
    for j in range(m_g):
        g = rademacher(op.size, 1, generator=generator, dtype=op.dtype, device=op.device)[:, 0]
        g = g - Q @ (Q.T @ g)
        terms[j] = float(torch.dot(g, op.matvec(g)))
    return TraceEstimate(exact + float(terms.mean()), _std_error(terms), op.num_matvecs - start)


def hessian_trace(
    model: nn.Module | ModelFn,
    loss_fn: LossFn,
    x: Tensor,
    y: Tensor,
    probes: int = 100,
    *,
    method: str = "hutch++",
    curvature: str = "hessian",
    params: Params | None = None,
    generator: torch.Generator | None = None,
    chunk_size: int | None = None,
    reduction: str = "mean",
) -> TraceEstimate:
    """Estimate ``tr(∇²L)`` (or ``tr(G)``) with ``probes`` products.

    Args:
        model, loss_fn, x, y, params, chunk_size, reduction: as in `hessian_operator`.
        probes: the budget of curvature-vector products.
        method: ``"hutch++"`` (default; fewer products for a given accuracy when the spectrum
            decays) or ``"hutchinson"``.
        curvature: ``"hessian"`` or ``"ggn"``.
        generator: RNG for the probes.

    Returns:
        A `TraceEstimate`.
    """
    builders = {"hessian": hessian_operator, "ggn": ggn_operator}
    if curvature not in builders:
        raise ValueError(f"curvature must be one of {sorted(builders)}, got {curvature!r}")
    methods = {"hutch++": hutchpp, "hutchinson": hutchinson}
    if method not in methods:
        raise ValueError(f"method must be one of {sorted(methods)}, got {method!r}")
    op = builders[curvature](model, loss_fn, x, y, params=params, chunk_size=chunk_size,
                             reduction=reduction)
    return methods[method](op, probes, generator=generator)


def ggn_trace(
    model: nn.Module | ModelFn,
    loss_fn: LossFn,
    x: Tensor,
    y: Tensor,
    *,
    params: Params | None = None,
    reduction: str = "mean",
    chunk_size: int | None = None,
) -> float:
    """The exact trace of the GGN, ``Σ_i w · tr(H_i J_i J_iᵀ)``, from per-sample Jacobians.

    ``H_i = ∇²_{o} ℓ(o, y_i)`` at ``o = f(θ, x_i)`` is the output Hessian of sample ``i``'s loss
    ``ℓ(o, y_i) = loss_fn(o[None], y_i[None])`` and ``w`` is ``1/n`` for a mean loss. The loss
    must be a sum or mean of per-sample terms. Equal to the Hessian trace for piecewise-linear
    networks (module docstring).

    Args:
        model, loss_fn, x, y, params, reduction: as in `hessian_operator`.
        chunk_size: samples per vmapped Jacobian (default: as many as fit in
            ``_JACOBIAN_BUDGET`` elements).
    """
    f, params = resolve_model(model, params)
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    params = {k: v.detach() for k, v in params.items()}
    device = next(iter(params.values())).device
    n = x.shape[0]
    out0 = f(params, x[:1].to(device))
    k = out0[0].numel()
    size = sum(v.numel() for v in params.values())
    if chunk_size is None:
        chunk_size = max(1, _JACOBIAN_BUDGET // max(1, k * size))
    weight = 1.0 / n if reduction == "mean" else 1.0

    def single(p: Params, xi: Tensor) -> Tensor:
        return f(p, xi[None])[0]

    def sample_loss(o: Tensor, yi: Tensor) -> Tensor:
        return loss_fn(o[None], yi[None])

    jac = torch.func.vmap(torch.func.jacrev(single), in_dims=(None, 0))
    out_hess = torch.func.vmap(torch.func.hessian(sample_loss))
    total = 0.0
    for xc, yc in chunks(x, y, chunk_size):
        xc, yc = xc.to(device), yc.to(device)
        J = jac(params, xc)  # {name: (c, *out_shape, *param_shape)}
        c = xc.shape[0]
        gram = sum(torch.einsum("iap,ibp->iab", j.reshape(c, k, -1), j.reshape(c, k, -1))
                   for j in J.values())  # (c, k, k): per-sample NTK blocks J_i J_iᵀ
        with torch.no_grad():
            o = f(params, xc)
        H = out_hess(o, yc).reshape(c, k, k)
        total += float((H * gram).sum())
    return total * weight


def _std_error(terms: Tensor) -> float:
    m = terms.numel()
    return float(terms.std(unbiased=True)) / math.sqrt(m) if m > 1 else float("inf")

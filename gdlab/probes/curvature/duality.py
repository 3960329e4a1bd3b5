"""The GGN-NTK duality under the squared loss.

For ``L = (s/2) Σ_i ‖f(θ, x_i) − y_i‖²`` the output Hessian is ``s·I`` and, with the Jacobian
``J = ∂f(θ, X)/∂θ`` of shape ``(n·k, P)``,

.. math:: G = s\\, J^\\top J \\;\\; (P × P), \\qquad Θ = J J^\\top \\;\\; (nk × nk),

so ``G`` and ``s·Θ`` share their nonzero eigenvalues (the squared singular values of ``√s J``),
and ``u`` is an eigenvector of ``Θ`` iff ``Jᵀu`` is one of ``G``. gdlab's `mse` is
``½·mean_i‖f − y‖²``, i.e. ``s = 1/n``: the GGN's top eigenvalue is the NTK's divided by ``n``.
Whichever side is smaller is the cheaper one to diagonalize: ``nk ≪ P`` for a wide network on
few points (the NTK side), ``P ≪ nk`` for a small network on many points (the GGN side).

References:
    Jacot, Gabriel & Hongler, NeurIPS 2018 (the NTK). Papyan, "Traces of class/cross-class
    structure pervade deep learning spectra", JMLR 2020 (the duality used for spectra).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gdlab._typing import ModelFn, Params
from gdlab.core.tree import flatten
from gdlab.probes.curvature.lanczos import DEFAULT_TOL, lanczos_eigsh
from gdlab.probes.curvature.operators import LinearOperator, jacobian_products, resolve_model

_DENSE_LIMIT = 2048
"""Largest ``n·k`` for which `mse_ggn_eigenvalues` materializes the NTK (n·k products)."""


def ntk_operator(
    model: nn.Module | ModelFn, x: Tensor, *, params: Params | None = None
) -> LinearOperator:
    """The empirical NTK ``Θ = J Jᵀ`` as a `LinearOperator` on flat outputs ``(n·k,)``.

    Entry ``(i·k + a, j·k + b)`` is ``⟨∂f_a(x_i)/∂θ, ∂f_b(x_j)/∂θ⟩`` (row-major flattening of
    the output ``(n, k)``). Each product is two backward passes over graphs built once
    (`jacobian_products`).
    """
    f, params = resolve_model(model, params)
    keys = list(params)
    leaves = [params[k].detach().requires_grad_(True) for k in keys]
    device = leaves[0].device
    out, jv, jtu = jacobian_products(f, keys, leaves, x.to(device))
    shape = out.shape

    def matvec(u: Tensor) -> Tensor:
        return jv(jtu(u.view(shape))).reshape(-1)

    return LinearOperator(matvec, out.numel(), dtype=out.dtype, device=device)


def mse_ggn_eigenvalues(
    model: nn.Module | ModelFn,
    x: Tensor,
    k: int | None = None,
    *,
    params: Params | None = None,
    scale: float | None = None,
    tol: float = DEFAULT_TOL,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Eigenvalues of the squared-loss GGN ``s·JᵀJ``, computed on the NTK side ``s·J Jᵀ``.

    Args:
        model: an ``nn.Module`` or ``f(params, x)``.
        x: inputs ``(n, ...)``; the targets do not enter the GGN of the squared loss.
        k: the ``k`` largest, by Lanczos on `ntk_operator`; ``None``: all ``n·k_out`` of
            them from the dense NTK (needs ``n·k_out ≤ _DENSE_LIMIT``). They contain every
            nonzero eigenvalue of the GGN (its rank is at most ``min(P, n·k_out)``).
        params: the point (default: the module's parameters).
        scale: the output-Hessian factor ``s``; default ``1/n``, gdlab's
            `gdlab.train.losses.mse` (``½·mean_i‖f − y‖²``).
        tol, generator: for Lanczos (``k`` given).

    Returns:
        Eigenvalues, largest first.
    """
    op = ntk_operator(model, x, params=params)
    s = 1.0 / x.shape[0] if scale is None else float(scale)
    if k is None:
        if op.size > _DENSE_LIMIT:
            raise ValueError(f"the NTK has size {op.size} > {_DENSE_LIMIT}; pass k= for Lanczos")
        dense = op.to_dense()
        vals = torch.linalg.eigvalsh(0.5 * (dense + dense.T))
        return (s * vals).flip(0)
    return s * lanczos_eigsh(op, k, tol=tol, generator=generator).eigenvalues


def ggn_eigenvector_from_ntk(
    model: nn.Module | ModelFn, x: Tensor, u: Tensor, *, params: Params | None = None
) -> Tensor:
    """Map an NTK eigenvector ``u (n·k,)`` to the GGN eigenvector ``Jᵀu/‖Jᵀu‖`` (flat ``(P,)``)."""
    f, params = resolve_model(model, params)
    keys = list(params)
    leaves = [params[k].detach().requires_grad_(True) for k in keys]
    out, _, jtu = jacobian_products(f, keys, leaves, x.to(leaves[0].device))
    if u.shape != (out.numel(),):
        raise ValueError(f"u must have shape ({out.numel()},), got {tuple(u.shape)}")
    v = flatten(dict(zip(keys, jtu(u.view(out.shape).to(out)), strict=True)))[0]
    return v / torch.linalg.vector_norm(v)

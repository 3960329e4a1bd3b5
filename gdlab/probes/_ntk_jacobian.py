"""Empirical NTK by Jacobian contraction and by NTK-vector products, for any module.

Both need per-sample Jacobian rows ``J(x_i) = ∂f(x_i)/∂θ: (k, P)``, obtained as
``vmap(jacrev(f_single))`` over a block of samples (Novak et al. 2022, "Fast finite width
neural tangent kernel", implementations 1 and 2; the PyTorch tutorial "Neural Tangent
Kernels", methods 1 and 2). The model must accept a batch of one (``x[None]``) and treat
samples independently (no batch statistics), the same condition under which the NTK of a
batch is a per-pair quantity at all.

- ``jacobian``: ``Θ_ij = J(x_i) J(x_j)ᵀ``, ``O(n1 n2 k² P)``.
- ``ntvp``: ``Θ[:, j, :, c] = J(x1) (J(x_j)ᵀ e_c)`` by one forward-mode product over the
  whole row block per column, ``O(n1 n2 k · F)`` with ``F`` the forward cost per sample:
  cheaper than ``jacobian`` when ``k`` exceeds a few and ``F ≈ P`` (dense nets).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gdlab._typing import Params
from gdlab.probes._ntk_blocks import JacPiece


def per_sample_jacobian(module: nn.Module, params: Params, x: Tensor, k: int) -> list[JacPiece]:
    """Jacobian rows of a block, one piece per parameter.

    Args:
        module: the model; parameters not in ``params`` are held fixed.
        params: the parameters to differentiate, ``{name: tensor}``.
        x: a block of inputs ``(b, ...)``.
        k: outputs per sample.

    Returns:
        ``[JacPiece(J: (b, k, P_p))]`` in the order of ``params``.
    """

    def f_single(p: Params, xi: Tensor) -> Tensor:
        return torch.func.functional_call(module, p, (xi.unsqueeze(0),)).reshape(k)

    jac = torch.func.vmap(torch.func.jacrev(f_single), in_dims=(None, 0))(params, x)
    b = x.shape[0]
    return [JacPiece(jac[name].reshape(b, k, -1)) for name in params]


def ntvp_block(
    module: nn.Module,
    params: Params,
    x1: Tensor,
    cols: list[JacPiece],
    k: int,
    *,
    trace: bool,
    chunk: int | None,
) -> Tensor:
    """NTK-vector products of a row block against the Jacobian rows of a column block.

    Each column ``(j, c)`` of the kernel is the forward-mode product
    ``J(x1) · J(x_j)[c]ᵀ``: one ``jvp`` over the whole row block, vmapped over the
    ``b2 · k`` tangents (``chunk`` at a time, to bound memory).

    Args:
        module, params: as in `per_sample_jacobian`.
        x1: row block ``(b1, ...)``.
        cols: Jacobian rows of the column block (``(b2, k, P_p)`` per parameter).
        k: outputs per sample.
        trace: keep only ``a = c`` and sum it.
        chunk: tangents per vmapped batch (``None``: all at once).

    Returns:
        ``(b1, k, b2, k)`` or, with ``trace``, ``(b1, b2)``.
    """
    b1 = x1.shape[0]
    b2 = cols[0].J.shape[0]
    names = list(params)
    tangents = {
        name: piece.J.reshape(b2 * k, *params[name].shape)
        for name, piece in zip(names, cols, strict=True)
    }

    def f_block(p: Params) -> Tensor:
        return torch.func.functional_call(module, p, (x1,)).reshape(b1, k)

    def column(t: Params) -> Tensor:
        return torch.func.jvp(f_block, (params,), (t,))[1]  # (b1, k)

    prods = torch.func.vmap(column, chunk_size=chunk)(tangents)  # (b2·k, b1, k)
    prods = prods.view(b2, k, b1, k)  # [j, c, i, a] = Θ(x_i, x_j)_{ac}
    if trace:
        return torch.diagonal(prods, dim1=1, dim2=3).sum(-1).T  # (b1, b2)
    return prods.permute(2, 3, 0, 1)  # (b1, k, b2, k)

"""Dense oracles: the slow, obviously-correct computations that fast paths are tested against.

Each materializes a full matrix with `torch.func` on a small case; use float64.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from gdlab._typing import ModelFn, Params
from gdlab.core.tree import flatten, unflatten


def jacobian(f: ModelFn, params: Params, x: Tensor) -> Tensor:
    """Full Jacobian of ``f(params, x).reshape(-1)`` w.r.t. all parameters: ``(n·k, P)``."""
    vec, spec = flatten(params)

    def g(v: Tensor) -> Tensor:
        return f(unflatten(v, spec), x).reshape(-1)

    return torch.func.jacrev(g)(vec)


def ntk(f: ModelFn, params: Params, x1: Tensor, x2: Tensor | None = None) -> Tensor:
    """Empirical NTK ``J(x1) J(x2)ᵀ`` as ``(n1, n2, k, k)`` (``k`` outputs; 1 if scalar)."""
    x2 = x1 if x2 is None else x2
    out1 = f(params, x1)
    n1, n2 = x1.shape[0], x2.shape[0]
    k = out1.reshape(n1, -1).shape[1]
    j1 = jacobian(f, params, x1).reshape(n1, k, -1)
    j2 = jacobian(f, params, x2).reshape(n2, k, -1)
    return torch.einsum("iap,jbp->ijab", j1, j2)


def hessian(loss: Callable[[Params], Tensor], params: Params) -> Tensor:
    """Full Hessian ``(P, P)`` of a scalar function of the parameters.

    Row by row with reverse-over-reverse autograd (``torch.autograd.functional.hessian``,
    unvectorized): slow but free of `torch.func.vmap`, whose batched second derivatives are
    wrong for affine LayerNorm in torch 2.13 (an O(1) error in the cross block).
    """
    vec, spec = flatten(params)
    return torch.autograd.functional.hessian(lambda v: loss(unflatten(v, spec)), vec.detach())


def ggn(
    f: Callable[[Params], Tensor], loss_of_output: Callable[[Tensor], Tensor], params: Params
) -> Tensor:
    """Full generalized Gauss-Newton ``Jᵀ H_out J`` ``(P, P)``."""
    vec, spec = flatten(params)

    def g(v: Tensor) -> Tensor:
        return f(unflatten(v, spec))

    out = g(vec)
    jac = torch.func.jacrev(g)(vec).reshape(out.numel(), -1)
    h_out = torch.func.hessian(lambda o: loss_of_output(o.reshape(out.shape)))(out.reshape(-1))
    return jac.T @ h_out @ jac

"""Jacobian-vector, vector-Jacobian, Hessian-vector and GGN-vector products on param dicts.

All are thin wrappers over `torch.func` so that every probe uses the same conventions:
``fn`` maps a parameter dict to a tensor, tangents and cotangents are dicts (or tensors)
shaped like its input and output.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from gdlab._typing import Params


def jvp(fn: Callable[[Params], Tensor], params: Params, tangent: Params) -> tuple[Tensor, Tensor]:
    """Forward-mode product ``(fn(params), J(params) · tangent)``.

    ``J`` is the Jacobian of ``fn`` with respect to all parameters; ``tangent`` has the
    parameters' shapes; the result has the output's shape.
    """
    return torch.func.jvp(fn, (params,), (tangent,))


def vjp(fn: Callable[[Params], Tensor], params: Params, cotangent: Tensor) -> Params:
    """Reverse-mode product ``Jᵀ · cotangent`` as a dict shaped like ``params``."""
    _, pullback = torch.func.vjp(fn, params)
    return pullback(cotangent)[0]


def hvp(loss: Callable[[Params], Tensor], params: Params, v: Params) -> Params:
    """Hessian-vector product ``∇²loss(params) · v`` (forward-over-reverse).

    .. math:: H v = \\frac{d}{d\\epsilon} \\nabla L(\\theta + \\epsilon v) \\big|_{\\epsilon=0}
    """
    return torch.func.jvp(torch.func.grad(loss), (params,), (v,))[1]


def ggn_vp(
    fn: Callable[[Params], Tensor],
    loss_of_output: Callable[[Tensor], Tensor],
    params: Params,
    v: Params,
) -> Params:
    """Generalized Gauss-Newton product ``Jᵀ H_out J v`` with ``H_out = ∇²_out loss``.

    ``fn(params)`` is the network output; ``loss_of_output(out)`` the scalar loss. For the
    mean-squared error ``H_out`` is a multiple of the identity and the GGN shares its nonzero
    spectrum with the (scaled) NTK.
    """
    out, jv = torch.func.jvp(fn, (params,), (v,))
    hjv = torch.func.jvp(torch.func.grad(loss_of_output), (out,), (jv,))[1]
    return vjp(fn, params, hjv)

"""Least-squares steps over per-sample residuals: Sven / minimum-norm Gauss–Newton.

Each sample's residual ``r_i(θ)`` is a condition ``r_i = 0``. Linearizing,
``r + JΔθ = 0`` with ``J = ∂r/∂θ`` of shape ``(B, P)``; the step is its minimum-norm
least-squares solution ``Δθ = −J⁺r``. In the under-parametrized regime (``P ≤ B``, ``J``
of full column rank) this is the Gauss–Newton / natural-gradient step for
``½‖r‖²``; in the over-parametrized regime it is the smallest step that zeroes the
linearized residuals.

The rule receives what it needs through ``update(..., residuals=r, jacobian=J)``;
`residual_jacobian` computes both with ``torch.func``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from gdlab._typing import Params
from gdlab.optim._base import EmptyState, GradientTransformation, Schedule, chain
from gdlab.optim._transforms import scale_by_learning_rate
from gdlab.optim._validation import check_lr, check_nonnegative, check_positive_int


def residual_jacobian(
    residual_fn: Callable[[Params], Tensor], params: Params, *, kappa: float = 2.0
) -> dict[str, Tensor | Params]:
    """Residuals ``r_i = ℓ_i^{κ/2}`` and their Jacobian ``J = ∂r/∂θ``, for ``update(**...)``.

    Args:
        residual_fn: ``params -> (B,)`` per-sample quantity ``ℓ_i``.
        params: where to evaluate.
        kappa: Sven's exponent: the residual is ``ℓ_i^{κ/2}``. ``κ = 2`` makes the residual
            the per-sample loss itself (Sven's default, and the identity when
            ``residual_fn`` already returns signed residuals ``f_i − y_i``: Gauss–Newton on
            ``½‖f − y‖²``); ``κ = 1`` with ``ℓ_i = (f_i − y_i)²`` gives ``|f_i − y_i|``.

    Returns:
        ``{"residuals": (B,), "jacobian": {k: (B, *params[k].shape)}}``.
    """
    check_nonnegative("kappa", kappa)

    def r(p):
        values = residual_fn(p)
        return values if kappa == 2 else values.pow(kappa / 2)

    jac = torch.func.jacrev(r)(params)
    with torch.no_grad():
        res = r(params)
    return {"residuals": res.detach(), "jacobian": {k: v.detach() for k, v in jac.items()}}


def _flat_jacobian(jacobian: Params | Sequence[Tensor], params: Params, batch: int) -> Tensor:
    if isinstance(jacobian, (list, tuple)):
        jacobian = dict(zip(params, jacobian, strict=True))
    missing = [k for k in params if k not in jacobian]
    if missing:
        raise ValueError(f"jacobian has no entry for parameter(s) {missing}")
    return torch.cat([jacobian[k].reshape(batch, -1) for k in params], dim=-1)  # (B, P)


def scale_by_sven(
    k: int | None = None, rtol: float = 1e-3, damping: float = 0.0
) -> GradientTransformation:
    """Sven's solve (Bright-Thonney, Harvey, Lukas, Thaler 2026, arXiv:2604.01279).

    With the thin SVD ``J = UΣVᵀ`` and ``r`` the residuals:

    .. math:: u = V\\,\\mathrm{diag}(φ(σ))\\,Uᵀ r,\\qquad
              φ(σ_i) = \\begin{cases} σ_i/(σ_i^2 + δ) & i < k,\\ σ_i > \\mathrm{rtol}·σ_1 \\\\
                                       0 & \\text{otherwise} \\end{cases}

    ``δ = damping = 0`` is the truncated pseudo-inverse ``J⁺_k r`` of the paper (keep the top
    ``k`` singular directions, drop those below ``rtol`` times the largest, as in the
    authors' ``pinv``); ``δ > 0`` is the Levenberg–Marquardt / damped natural-gradient
    step ``Jᵀ(JJᵀ + δI)⁻¹r``. Descent is ``θ ← θ − lr·u`` (`sven`). The gradient argument
    of ``update`` is not used.
    """

    def init(params):
        return EmptyState()

    def update(grads, state, params=None, *, residuals=None, jacobian=None, **extra):
        if residuals is None or jacobian is None:
            raise ValueError(
                "sven needs per-sample residuals and their Jacobian: "
                "update(grads, state, params, **residual_jacobian(residual_fn, params))"
            )
        if params is None:
            raise ValueError("sven needs params (to shape the step)")
        r = residuals.reshape(-1)
        jac = _flat_jacobian(jacobian, params, r.shape[0])
        u_, s, vh = torch.linalg.svd(jac, full_matrices=False)  # (B,q) (q,) (q,P)
        keep = s > rtol * s[..., :1]
        if k is not None:
            keep = keep & (torch.arange(s.shape[-1], device=s.device) < k)
        safe = torch.where(keep, s, torch.ones_like(s))
        phi = torch.where(keep, safe / (safe * safe + damping), torch.zeros_like(s))
        step = vh.mT @ (phi * (u_.mT @ r))  # (P,)
        out, start = {}, 0
        for name, p in params.items():
            n = p.numel()
            out[name] = step[start:start + n].reshape(p.shape).to(p.dtype)
            start += n
        return out, state

    return GradientTransformation(init, update)


def sven(
    lr: float | Schedule = 1.0, k: int | None = None, rtol: float = 1e-3, damping: float = 0.0
) -> GradientTransformation:
    """Sven: ``θ ← θ − lr · J_k⁺ r`` over per-sample residuals (see `scale_by_sven`).

    ``lr = 1, k = None, rtol → 0`` is the full minimum-norm Gauss–Newton step: on linear
    least squares with ``P ≤ B`` one step lands on the least-squares solution; with
    ``P > B`` it interpolates with the smallest change of ``θ``. Call
    ``update(grads, state, params, **residual_jacobian(residual_fn, params))``; through
    `torch_optimizer`, ``opt.step(residuals=r, jacobian=[J_0, J_1, ...])`` (one Jacobian
    per parameter, in order).
    """
    check_lr(lr)
    if k is not None:
        check_positive_int("k", k)
    check_nonnegative("rtol", rtol)
    check_nonnegative("damping", damping)
    return chain(scale_by_sven(k, rtol, damping), scale_by_learning_rate(lr))

"""Orthogonalized matrix updates: Muon and PolarGrad.

Both replace a matrix gradient ``G = UΣVᵀ`` (or its momentum) by its polar factor
``polar(G) = UVᵀ``: steepest descent for the spectral norm. PolarGrad scales it by the
nuclear norm ``‖G‖_* = tr Σ``; Muon does not (Lau, Long, Su 2025 show the scaling is what
lets constant steps converge on strongly convex problems).

How leaves are read as matrices: a leaf of shape ``(..., r, c)`` is a batch of ``r × c``
matrices over its last two axes, so a stacked ensemble of weight matrices works
unchanged. A vector ``(n,)`` is the row matrix ``1 × n`` (its polar factor is
``g/‖g‖``, its nuclear norm ``‖g‖``, so PolarGrad on a bias is plain GD), and a scalar is
``1 × 1`` (polar factor ``sign(g)``). Reshape conv kernels to ``(out, in·kh·kw)`` yourself
if you want them orthogonalized as one matrix. For stacked ensembles of vectors use
`vmapped`, which gives each member its own matrix view.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch
from torch import Tensor

from gdlab._typing import Params
from gdlab.optim._base import (
    GradientTransformation,
    Schedule,
    Updates,
    as_schedule,
    chain,
    step_count,
)
from gdlab.optim._transforms import CountState, decoupled_weight_decay, scale_by_learning_rate
from gdlab.optim._validation import (
    check_choice,
    check_lr,
    check_nonnegative,
    check_positive_int,
    check_unit_interval,
)

MUON_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
"""Quintic Newton–Schulz coefficients of Keller Jordan's Muon (as in ``torch.optim.Muon``)."""

CUBIC_COEFFICIENTS = (1.5, -0.5, 0.0)
"""The classical cubic Newton–Schulz iteration ``X ← (3X − XXᵀX)/2``: converges to the
exact polar factor for singular values in ``(0, √3)``, which the normalization ensures."""


def as_matrices(x: Tensor) -> Tensor:
    """``x`` as a batch of matrices ``(..., r, c)``: vectors as ``1 × n``, scalars ``1 × 1``."""
    if x.dim() == 0:
        return x.reshape(1, 1)
    if x.dim() == 1:
        return x.reshape(1, -1)
    return x


def polar_svd(g: Tensor) -> Tensor:
    """The exact polar factor ``UVᵀ`` of ``G = UΣVᵀ`` (thin SVD), shaped like ``g``.

    Rank-deficient ``G`` has no unique polar factor; the SVD's choice is returned, and the
    null directions contribute nothing to ``⟨G, UVᵀ⟩ = ‖G‖_*``.
    """
    m = as_matrices(g)
    u, _, vh = torch.linalg.svd(m, full_matrices=False)
    return (u @ vh).reshape(g.shape)


def newton_schulz(
    g: Tensor,
    *,
    steps: int = 5,
    coefficients: tuple[float, float, float] = MUON_COEFFICIENTS,
    eps: float = 1e-7,
    dtype: torch.dtype | None = torch.bfloat16,
) -> Tensor:
    """Approximate ``polar(G)`` by ``steps`` of ``X ← aX + b(XXᵀ)X + c(XXᵀ)²X``.

    Starts from ``X₀ = G/‖G‖_F`` (so every singular value is ≤ 1), working on the wide
    orientation. With `MUON_COEFFICIENTS` this is Muon's ``zeropower_via_newtonschulz5``:
    the singular values land in about ``[0.7, 1.2]`` rather than at 1. With
    `CUBIC_COEFFICIENTS` it converges to the exact polar factor. ``dtype`` is the working
    precision (bfloat16 in Muon; ``None`` keeps ``g``'s dtype); the result has ``g``'s.
    For 2-D input the arithmetic is ``torch.optim.Muon``'s, operation for operation.
    """
    a, b, c = coefficients
    m = as_matrices(g)
    x = m.to(dtype) if dtype is not None else m
    tall = m.size(-2) > m.size(-1)
    if tall:
        x = x.mT
    if x.dim() == 2:
        x = x / x.norm().clamp(min=eps)
        for _ in range(steps):
            gram = x @ x.T
            x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    else:
        lead = x.shape[:-2]
        x = x.reshape(-1, *x.shape[-2:])
        x = x / torch.linalg.vector_norm(x, dim=(-2, -1), keepdim=True).clamp(min=eps)
        for _ in range(steps):
            gram = x @ x.mT
            x = torch.baddbmm(x, torch.baddbmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
        x = x.reshape(*lead, *x.shape[-2:])
    if tall:
        x = x.mT
    return x.to(g.dtype).reshape(g.shape)


def _shape_ratio(shape: torch.Size, adjust_lr_fn: str | None) -> float:
    """Muon's per-matrix step multiplier (``torch.optim.Muon._adjust_lr``)."""
    rows, cols = (1, 1) if len(shape) == 0 else (1, shape[0]) if len(shape) == 1 else shape[-2:]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return math.sqrt(max(1, rows / cols))
    return 0.2 * math.sqrt(max(rows, cols))  # "match_rms_adamw" (Moonshot, Liu et al. 2025)


class MomentumState(NamedTuple):
    """A momentum buffer per leaf."""

    buf: Params


def scale_by_muon(
    momentum: float = 0.95,
    *,
    nesterov: bool = True,
    ns_coefficients: tuple[float, float, float] = MUON_COEFFICIENTS,
    eps: float = 1e-7,
    ns_steps: int = 5,
    ns_dtype: torch.dtype | None = torch.bfloat16,
) -> GradientTransformation:
    """Muon's direction: ``B ← μB + (1−μ)G``; ``O = NS(G + μ(B − G)) or NS(B)``.

    Nesterov uses ``lerp(G, B, μ)``, exactly ``torch.optim.Muon``'s form.
    """

    def init(params):
        return MomentumState({k: torch.zeros_like(v) for k, v in params.items()})

    def update(grads, state, params=None, **extra):
        buf = {k: state.buf[k].lerp(g, 1 - momentum) for k, g in grads.items()}
        out = {}
        for k, g in grads.items():
            direction = g.lerp(buf[k], momentum) if nesterov else buf[k]
            out[k] = newton_schulz(direction, steps=ns_steps, coefficients=ns_coefficients,
                                   eps=eps, dtype=ns_dtype)
        return out, MomentumState(buf)

    return GradientTransformation(init, update)


def scale_by_shape_lr(
    lr: float | Schedule, adjust_lr_fn: str | None = None
) -> GradientTransformation:
    """``u = −lr_t · s(shape) · g`` with Muon's shape factor ``s = √max(1, rows/cols)``.

    Lazy per-leaf factors when ``lr`` is a number, so the step rounds like
    ``param.add_(O, alpha=-lr·s)`` in ``torch.optim.Muon``.
    """
    sched = as_schedule(lr)

    def init(params):
        return CountState(step_count(params))

    def update(grads, state, params=None, **extra):
        rate = sched(state.count)
        ratios = {k: _shape_ratio(g.shape, adjust_lr_fn) for k, g in grads.items()}
        if isinstance(rate, (int, float)):
            out = Updates(grads)
            out.alpha = {k: -(float(rate) * r) for k, r in ratios.items()}
            return out, CountState(state.count + 1)
        return {k: g * (-(rate * ratios[k])) for k, g in grads.items()}, CountState(state.count + 1)

    return GradientTransformation(init, update)


def muon(
    lr: float | Schedule = 1e-3,
    weight_decay: float = 0.1,
    momentum: float = 0.95,
    nesterov: bool = True,
    ns_coefficients: tuple[float, float, float] = MUON_COEFFICIENTS,
    eps: float = 1e-7,
    ns_steps: int = 5,
    adjust_lr_fn: str | None = None,
    ns_dtype: torch.dtype | None = torch.bfloat16,
) -> GradientTransformation:
    """Muon (Jordan et al. 2024), as ``torch.optim.Muon`` (same names, defaults, rounding).

    .. math:: B_t = μB_{t−1} + (1−μ)G_t,\\quad O_t = \\mathrm{NS}_k(\\text{lerp}(G_t, B_t, μ)),
    .. math:: θ_t = θ_{t−1}(1 − lr·λ) − lr·s\\,O_t,\\qquad s = \\sqrt{\\max(1, r/c)}

    ``ns_dtype=None`` runs Newton–Schulz in the parameters' dtype (float64 for theory
    checks); the default bfloat16 is ``torch.optim.Muon``'s. Non-matrix leaves: see the
    module docstring (``torch.optim.Muon`` rejects them).
    """
    check_lr(lr)
    check_nonnegative("weight_decay", weight_decay)
    check_nonnegative("momentum", momentum)
    check_nonnegative("eps", eps)
    check_positive_int("ns_steps", ns_steps)
    check_choice("adjust_lr_fn", adjust_lr_fn, (None, "original", "match_rms_adamw"))
    if len(ns_coefficients) != 3:
        raise ValueError(f"ns_coefficients must be three numbers (a, b, c), "
                         f"got {ns_coefficients!r}")
    return chain(
        scale_by_muon(momentum, nesterov=nesterov, ns_coefficients=tuple(ns_coefficients),
                      eps=eps, ns_steps=ns_steps, ns_dtype=ns_dtype),
        scale_by_shape_lr(lr, adjust_lr_fn),
        decoupled_weight_decay(lr, weight_decay),
    )


def _polar(m: Tensor, method: str, ns_steps: int, ns_coefficients, eps: float) -> Tensor:
    if method == "svd":
        return polar_svd(m)
    return newton_schulz(m, steps=ns_steps, coefficients=ns_coefficients, eps=eps, dtype=None)


def _nuclear(m: Tensor, polar: Tensor) -> Tensor:
    """``⟨M, polar(M)⟩_F = tr H`` for ``M = polar(M)·H``: the nuclear norm, per matrix."""
    mm, pp = as_matrices(m), as_matrices(polar)
    return (mm * pp).sum(dim=(-2, -1)).reshape(m.shape[:-2] if m.dim() >= 2 else ())


def _times_per_matrix(scale: Tensor, x: Tensor) -> Tensor:
    if x.dim() >= 2:
        return scale[..., None, None] * x
    return scale * x


def scale_by_polargrad(
    momentum: float = 0.0,
    *,
    polar_first: bool = False,
    polar: Literal["svd", "newton_schulz"] = "svd",
    ns_steps: int = 30,
    ns_coefficients: tuple[float, float, float] = CUBIC_COEFFICIENTS,
    eps: float = 1e-12,
) -> GradientTransformation:
    """PolarGrad's direction (Lau, Long, Su 2025, arXiv:2505.21799), before the step size.

    Momentum first (PolarGradM; plain PolarGrad when β = 0):

    .. math:: M_t = βM_{t−1} + (1−β)G_t,\\quad U_tH_t = \\mathrm{polar}(M_t),\\quad
              u_t = \\mathrm{tr}(H_t)\\,U_t = ‖M_t‖_*\\,U_t

    Polar first: ``U_tH_t = polar(G_t)``, ``M_t = βM_{t−1} + (1−β)U_t``, ``u_t = tr(H_t) M_t``.
    The nuclear norm is computed as ``⟨M, U⟩_F``, exact for the SVD factor and the paper's
    estimate for an inexact one. ``polar="newton_schulz"`` uses `newton_schulz` in the
    parameters' dtype (default: 30 cubic steps, converged to float64 precision for
    condition numbers up to ~1e3).
    """

    def init(params):
        return MomentumState({k: torch.zeros_like(v) for k, v in params.items()})

    def update(grads, state, params=None, **extra):
        out, buf = {}, {}
        for k, g in grads.items():
            if polar_first:
                u = _polar(g, polar, ns_steps, ns_coefficients, eps)
                scale = _nuclear(g, u)
                buf[k] = state.buf[k].lerp(u, 1 - momentum)
                out[k] = _times_per_matrix(scale, buf[k])
            else:
                buf[k] = state.buf[k].lerp(g, 1 - momentum)
                u = _polar(buf[k], polar, ns_steps, ns_coefficients, eps)
                out[k] = _times_per_matrix(_nuclear(buf[k], u), u)
        return out, MomentumState(buf)

    return GradientTransformation(init, update)


def polargrad(
    lr: float | Schedule = 1e-2,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    polar_first: bool = False,
    polar: Literal["svd", "newton_schulz"] = "svd",
    ns_steps: int = 30,
    ns_coefficients: tuple[float, float, float] = CUBIC_COEFFICIENTS,
) -> GradientTransformation:
    """PolarGrad / PolarGradM (Lau, Long, Su 2025) with decoupled weight decay.

    .. math:: θ_t = (1 − lr·λ)θ_{t−1} − lr\\,‖M_t‖_*\\,\\mathrm{polar}(M_t)

    For a step that decreases an ``L``-smooth ``f``: ``lr ≤ 1/(L·rank)`` (the update has
    ``‖Δ‖_F² = lr²‖M‖_*²·rank``). Leaves that are not matrices: see the module docstring.
    """
    check_lr(lr)
    check_unit_interval("momentum", momentum)
    check_nonnegative("weight_decay", weight_decay)
    check_choice("polar", polar, ("svd", "newton_schulz"))
    check_positive_int("ns_steps", ns_steps)
    return chain(
        scale_by_polargrad(momentum, polar_first=polar_first, polar=polar, ns_steps=ns_steps,
                           ns_coefficients=tuple(ns_coefficients)),
        scale_by_learning_rate(lr),
        decoupled_weight_decay(lr, weight_decay),
    )

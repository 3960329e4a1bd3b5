"""Infinite-width NNGP and NTK of fully connected networks (neural-tangents' conventions).

The network is neural-tangents'

.. code-block:: python

    stax.serial(*[stax.Dense(width, W_std=w_std, b_std=b_std), act] * hidden_layers,
                stax.Dense(1, W_std=w_std, b_std=b_std))

i.e. ``hidden_layers`` hidden layers, each a dense layer followed by the activation, then a
dense readout. With ``parametrization="ntk"`` a dense layer with fan-in ``m`` computes
``y = (σ_w/√m) W x + σ_b b`` with ``W, b ~ N(0, 1)`` (this is ``gdlab.models.MLP(...,
parametrization="ntk", w_std=σ_w, b_std=σ_b)``). The kernels follow the recursion
(Jacot et al. 2018, Thm. 1; Lee et al. 2019, App. C), starting from the input covariance
``Σ⁰(x, x') = x·x'/d``:

.. math::
    Σ^{1} = σ_w² Σ⁰ + σ_b², \\quad Θ^{1} = Σ^{1};\\qquad
    Σ^{l+1} = σ_w² E[φ(u)φ(v)] + σ_b², \\quad
    Θ^{l+1} = Σ^{l+1} + σ_w² Θ^{l} E[φ'(u)φ'(v)]

with ``(u, v) ~ N(0, Σ^l)`` restricted to the pair. The returned NNGP is ``Σ^{L+1}``, the
covariance of one output at initialization, and the NTK ``Θ^{L+1}``, the kernel of gradient
flow for one output (outputs are independent and share it). With
``parametrization="standard"`` (neural-tangents' ``parameterization='standard'``, ``y =
W x + b`` with ``W ~ N(0, σ_w²/m)``, ``b ~ N(0, σ_b²)``) the NNGP is the same and
``Θ^{l+1} = m_l E[φ(u)φ(v)] + σ_w² Θ^l E[φ'φ'] + 1`` (``Θ¹ = d Σ⁰ + 1``): it depends on
the finite fan-ins ``m_l``, so
``width`` must be given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from gdlab.kernels._activations import CLOSED_FORM, GH_NODES, diag_map, dual, hermite, resolve

BLOCK_ENTRIES = 1 << 18
"""Kernel entries per block (``2¹⁸``: 1-2 MiB per temporary, so a block's temporaries stay in
the CPU cache; 2¹⁸ ran the W2 workload at n = 4000 about 1.2-2× faster than 2²⁰ on the
2-core bench machine). Only the upper triangle's blocks are computed when ``x2`` is ``x1``.
Memory beyond the two ``(n1, n2)`` results is bounded by this, whatever ``n``."""

_PARAMETRIZATIONS = ("ntk", "standard")


class Kernels(NamedTuple):
    """The two infinite-width kernels, each ``(n1, n2)``."""

    nngp: Tensor
    ntk: Tensor


def mlp_kernels(
    x1: Tensor,
    x2: Tensor | None = None,
    *,
    hidden_layers: int,
    activation: str | Callable[[Tensor], Tensor],
    w_std: float = 1.0,
    b_std: float = 0.0,
    parametrization: str = "ntk",
    width: int | None = None,
    gh_nodes: int = GH_NODES,
) -> Kernels:
    """NNGP and NTK of an infinitely wide MLP between two sets of inputs.

    Args:
        x1: ``(n1, d)`` inputs.
        x2: ``(n2, d)`` inputs; ``None`` means ``x1`` (only the upper triangle is computed).
        hidden_layers: number of ``Dense → activation`` blocks before the readout (≥ 0).
        activation: ``relu``, ``erf``, ``identity`` (closed forms), ``tanh``, ``gelu``,
            ``softplus``, ``sigmoid``, ``sin`` or an elementwise callable (Gauss-Hermite).
        w_std, b_std: ``σ_w, σ_b`` of every dense layer.
        parametrization: ``"ntk"`` (default) or ``"standard"``.
        width: hidden width, needed only by ``"standard"`` (its NTK grows with width).
        gh_nodes: nodes per dimension of the tensor-product Gauss-Hermite rule, used for a
            numerical activation only where its Mehler series does not converge.

    Returns:
        `Kernels` ``(nngp, ntk)``, each ``(n1, n2)`` in ``x1``'s dtype and device.

    Raises:
        ValueError: bad shapes, a negative depth or std, an unknown activation or
            parametrization, or ``"standard"`` without ``width``.

    Example:
        >>> x = torch.eye(3, dtype=torch.float64)
        >>> k = mlp_kernels(x, hidden_layers=1, activation="identity")
        >>> torch.allclose(k.nngp, x @ x.T / 3) and torch.allclose(k.ntk, 2 * x @ x.T / 3)
        True
    """
    x2_is_x1 = x2 is None or x2 is x1
    x2 = x1 if x2 is None else x2
    _validate(x1, x2, hidden_layers, w_std, b_std, parametrization, width)
    name, fn, dfn = resolve(activation)
    d = x1.shape[1]
    fan_ins = [d] + [width or 0] * hidden_layers
    # Per-point variances before each activation, l = 1..L (the diagonals of Σ^l).
    q1 = _diagonals(x1, hidden_layers, name, fn, w_std, b_std)
    q2 = q1 if x2_is_x1 else _diagonals(x2, hidden_layers, name, fn, w_std, b_std)

    # Hermite coefficients per layer for the Mehler series (None: closed form, or fall back).
    coefs = [
        _coefficients(name, fn, dfn, a, None if x2_is_x1 else b)
        for a, b in zip(q1, q2, strict=True)
    ]
    n1, n2 = x1.shape[0], x2.shape[0]
    nngp = torch.empty(n1, n2, dtype=x1.dtype, device=x1.device)
    ntk = torch.empty_like(nngp)
    rows = max(1, min(n1, BLOCK_ENTRIES // max(n2, 1)))
    for r0 in range(0, n1, rows):
        rs = slice(r0, min(n1, r0 + rows))
        c0 = r0 if x2_is_x1 else 0  # upper triangle only; mirrored below
        cs = slice(c0, n2)
        cf = [None if c is None else (_rows(c[0], rs), _rows(c[1], cs)) for c in coefs]
        s, t = _block(
            x1[rs],
            x2[cs],
            [q[rs] for q in q1],
            [q[cs] for q in q2],
            cf,
            name,
            fn,
            dfn,
            w_std,
            b_std,
            parametrization,
            fan_ins,
            gh_nodes,
        )
        if x2_is_x1:  # the diagonal square of the block: exactly symmetric, like the mirror
            b = rs.stop - rs.start
            for m in (s, t):
                m[:, :b] = 0.5 * (m[:, :b] + m[:, :b].T)
        nngp[rs, cs], ntk[rs, cs] = s, t
        if x2_is_x1 and c0 + (rs.stop - rs.start) < n2:
            tail = slice(rs.stop, n2)
            off = rs.stop - c0
            nngp[tail, rs] = s[:, off:].T
            ntk[tail, rs] = t[:, off:].T
    return Kernels(nngp, ntk)


def _validate(x1, x2, hidden_layers, w_std, b_std, parametrization, width) -> None:
    if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1]:
        raise ValueError(
            f"x1 and x2 must be (n, d) with the same d; got {tuple(x1.shape)}, {tuple(x2.shape)}"
        )
    if x1.dtype != x2.dtype or x1.device != x2.device:
        raise ValueError("x1 and x2 must share dtype and device")
    if x1.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"inputs must be float32 or float64, got {x1.dtype}")
    if int(hidden_layers) != hidden_layers or hidden_layers < 0:
        raise ValueError(f"hidden_layers must be an integer ≥ 0, got {hidden_layers}")
    if w_std < 0 or b_std < 0:
        raise ValueError(f"w_std and b_std must be ≥ 0, got {w_std}, {b_std}")
    if parametrization not in _PARAMETRIZATIONS:
        raise ValueError(
            f"parametrization must be one of {_PARAMETRIZATIONS}, got {parametrization!r}"
        )
    if parametrization == "standard" and hidden_layers > 0 and not width:
        raise ValueError("parametrization='standard' needs the hidden width: its NTK depends on it")


def _diagonals(x, hidden_layers, name, fn, w_std, b_std) -> list[Tensor]:
    """``[Σ^l(x_i, x_i)]`` for ``l = 1..L``, each ``(n,)``."""
    w2, b2 = w_std**2, b_std**2
    q = w2 * (x * x).sum(1) / x.shape[1] + b2
    out = [q] if hidden_layers else []
    for _ in range(hidden_layers - 1):
        q = w2 * diag_map(name, fn, q) + b2
        out.append(q)
    return out


def _coefficients(name, fn, dfn, qa: Tensor, qb: Tensor | None):
    """Per-layer Hermite coefficients of both point sets, cut at a common certified length."""
    if name in CLOSED_FORM:
        return None
    ha = hermite(fn, dfn, qa)
    hb = ha if qb is None else hermite(fn, dfn, qb)
    if ha is None or hb is None:
        return None  # not converged: the tensor-product rule handles this layer
    terms = max(ha[1], hb[1])
    return tuple(type(h[0])(*(t[:, :terms] for t in h[0])) for h in (ha, hb))


def _rows(c, sl: slice):
    return type(c)(*(t[sl] for t in c))


def _relu_dense(sigma: Tensor, theta: Tensor, q1: Tensor, q2: Tensor, w2: float, b2: float) -> None:
    """One ``ReLU → Dense`` step in place, in 14 elementwise passes (the hot loop of W2).

    With ``c = cos θ = Σ/√(q1 q2)`` and ``D = σ_w² (π − θ)/(2π)``:
    ``Σ ← √(q1 q2) (σ_w²/(2π) sin θ + D c) + σ_b²`` and ``Θ ← Θ D + Σ`` — the closed forms of
    `gdlab.kernels._activations.dual` with the dense layer's affine map folded in.
    """
    tiny = torch.finfo(sigma.dtype).tiny
    inv = torch.outer(torch.rsqrt(q1.clamp(min=tiny)), torch.rsqrt(q2.clamp(min=tiny)))
    c = inv.mul_(sigma).clamp_(-1.0, 1.0)  # cos θ (a zero-variance point gets c = 0)
    half = torch.full((1, 1), 0.5 * w2, dtype=sigma.dtype, device=sigma.device)
    dot = torch.add(half, torch.arccos(c), alpha=-w2 / (2 * math.pi))  # σ_w² (π − θ)/(2π)
    one = torch.ones((1, 1), dtype=sigma.dtype, device=sigma.device)
    sin = torch.addcmul(one, c, c, value=-1.0).sqrt_()  # |c| ≤ 1, so 1 − c² ≥ 0 exactly
    sin.mul_(w2 / (2 * math.pi)).addcmul_(dot, c)
    sigma.copy_(sin.mul_(torch.outer(torch.sqrt(q1), torch.sqrt(q2)))).add_(b2)
    theta.mul_(dot).add_(sigma)


def _block(
    x1, x2, q1s, q2s, coefs, name, fn, dfn, w_std, b_std, parametrization, fan_ins, gh_nodes
):
    """The recursion on one ``(b1, b2)`` block; returns ``(Σ^{L+1}, Θ^{L+1})``."""
    w2, b2 = w_std**2, b_std**2
    standard = parametrization == "standard"
    d = x1.shape[1]
    if standard:
        sigma = (x1 @ x2.T).mul_(1.0 / d)  # Σ⁰
        theta = sigma * fan_ins[0] + 1.0  # standard: Θ¹ = m Σ⁰ + 1
        sigma.mul_(w2).add_(b2)  # Σ¹
    else:
        bias = torch.full((1, 1), b2, dtype=x1.dtype, device=x1.device)
        sigma = torch.addmm(bias, x1, x2.T, alpha=w2 / d)  # Σ¹ = σ_w² x·x'/d + σ_b², one GEMM
        theta = sigma.clone()  # Θ¹ = Σ¹
    if name == "relu" and not standard:
        for q1, q2 in zip(q1s, q2s, strict=True):
            _relu_dense(sigma, theta, q1, q2, w2, b2)
        return sigma, theta
    for layer, (q1, q2) in enumerate(zip(q1s, q2s, strict=True)):
        c1, c2 = coefs[layer] if coefs[layer] is not None else (None, None)
        act, dot = dual(
            name, fn, dfn, q1[:, None], sigma, q2[None, :], coef1=c1, coef2=c2, gh_nodes=gh_nodes
        )
        theta.mul_(dot).mul_(w2)  # σ_w² Θ^l E[φ'φ']
        if standard:
            theta.add_(act, alpha=fan_ins[layer + 1]).add_(1.0)
        sigma = act.mul_(w2).add_(b2) if act is not sigma else act * w2 + b2
        if not standard:
            theta.add_(sigma)
    return sigma, theta

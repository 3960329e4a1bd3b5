"""Dual activations: how one elementwise nonlinearity maps a Gaussian covariance.

For ``(u, v) ~ N(0, [[q1, k12], [k12, q2]])`` an activation ``φ`` maps the NNGP entry to
``E[φ(u) φ(v)]`` and multiplies the NTK entry by ``E[φ'(u) φ'(v)]`` (Jacot et al. 2018,
Thm. 1; Lee et al. 2019, Eq. 16). Closed forms:

- ``relu`` (Cho & Saul 2009, arc-cosine kernels of degree 1 and 0), ``θ = arccos(k12/√(q1 q2))``:
  ``E[φφ] = √(q1 q2)(sin θ + (π − θ) cos θ)/(2π)``, ``E[φ'φ'] = (π − θ)/(2π)``;
- ``erf`` (Williams 1997): ``E[φφ] = (2/π) arcsin(2 k12 / √((1 + 2 q1)(1 + 2 q2)))``,
  ``E[φ'φ'] = (4/π) / √((1 + 2 q1)(1 + 2 q2) − 4 k12²)``;
- ``identity``: ``k12`` and ``1``.

Any other elementwise ``φ`` (``tanh``, ``gelu``, ``softplus``, ``sigmoid``, ``sin`` or a
callable) goes through Gauss-Hermite quadrature on the bivariate Gaussian, written with
independent standard normals ``z, w``: ``u = √q1 z``, ``v = √q2 (ρ z + √(1 − ρ²) w)``,
``ρ = k12/√(q1 q2)``, so that ``E[g(u, v)] ≈ Σ_ab ω_a ω_b g(u(z_a), v(z_a, w_b))``.
These conventions are neural-tangents' ``stax.Relu()``, ``stax.Erf()``, ``stax.Identity()``
and ``stax.ElementwiseNumerical(fn, deg)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

CLOSED_FORM = ("relu", "erf", "identity")

GH_NODES = 32
"""Default Gauss-Hermite nodes per dimension (32² = 1024 evaluations per kernel entry).

Measured against 200-node quadrature for tanh, gelu, softplus, sigmoid and sin at depths
1-4 with ``w_std ≤ 2``: the relative error of the NTK stays below 1e-9 in float64 (the
integrands are analytic, so the error falls geometrically with the node count). A slowly
converging callable can ask for more with ``gh_nodes=``.
"""

_PAIR_CHUNK = 2048
"""Kernel entries per quadrature batch: ``2048 · 32² · 8 B = 16 MiB`` of float64 temporaries."""


def _sigmoid_prime(x: Tensor) -> Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def _gelu_prime(x: Tensor) -> Tensor:
    # d/dx [x Φ(x)] = Φ(x) + x φ(x)
    return 0.5 * (1 + torch.erf(x / math.sqrt(2))) + x * torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


_FUNCTIONS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "tanh": (torch.tanh, lambda x: 1 - torch.tanh(x) ** 2),
    "sigmoid": (torch.sigmoid, _sigmoid_prime),
    "softplus": (F.softplus, torch.sigmoid),
    "sin": (torch.sin, torch.cos),
    "gelu": (F.gelu, _gelu_prime),
}


def resolve(activation: str | Callable[[Tensor], Tensor]) -> tuple[str, Callable | None, Callable | None]:
    """``(name, φ, φ')``; ``φ`` is ``None`` for the closed-form activations.

    A callable is differentiated by autograd (it must be elementwise).

    Raises:
        ValueError: unknown activation name.
    """
    if callable(activation):
        fn = activation

        def dfn(x: Tensor) -> Tensor:
            with torch.enable_grad():
                xg = x.detach().requires_grad_(True)
                (g,) = torch.autograd.grad(fn(xg).sum(), xg)
            return g

        return getattr(fn, "__name__", "callable"), fn, dfn
    if activation in CLOSED_FORM:
        return activation, None, None
    if activation in _FUNCTIONS:
        fn, dfn = _FUNCTIONS[activation]
        return activation, fn, dfn
    known = sorted((*CLOSED_FORM, *_FUNCTIONS))
    raise ValueError(f"unknown activation {activation!r}; use one of {known} or a callable")


@lru_cache(maxsize=8)
def _gh(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite nodes and weights normalized to the standard normal."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    return z, w / w.sum()


def gh_rule(nodes: int, like: Tensor) -> tuple[Tensor, Tensor]:
    """Nodes ``z`` and weights ``ω`` (``Σ ω = 1``) on ``like``'s device and dtype."""
    z, w = _gh(nodes)
    return (torch.as_tensor(z, dtype=like.dtype, device=like.device),
            torch.as_tensor(w, dtype=like.dtype, device=like.device))


def dual(
    name: str, fn: Callable | None, dfn: Callable | None,
    q1: Tensor, k12: Tensor, q2: Tensor, *, need_dot: bool = True, gh_nodes: int = GH_NODES,
) -> tuple[Tensor, Tensor | None]:
    """``(E[φ(u)φ(v)], E[φ'(u)φ'(v)])`` for a block of pairs.

    Args:
        name, fn, dfn: from `resolve`.
        q1: ``(b1, 1)`` variances of the rows; q2: ``(1, b2)`` of the columns.
        k12: ``(b1, b2)`` covariances; it may be overwritten.
        need_dot: also return the derivative kernel (the NTK needs it, the NNGP does not).
        gh_nodes: quadrature nodes per dimension for non-closed-form ``φ``.

    Returns:
        Two ``(b1, b2)`` tensors (the second ``None`` when not ``need_dot``).
    """
    if name == "identity":
        return k12, (torch.ones_like(k12) if need_dot else None)
    if name == "relu":
        s = torch.sqrt(q1) * torch.sqrt(q2)  # (b1, b2)
        c = torch.div(k12, s).clamp_(-1.0, 1.0)
        theta = torch.arccos(c)
        pi_minus = torch.sub(math.pi, theta)  # π − θ
        sin = torch.sqrt((1 - c * c).clamp_(min=0.0))
        nngp = sin.addcmul_(pi_minus, c).mul_(s).mul_(1 / (2 * math.pi))
        dot = pi_minus.mul_(1 / (2 * math.pi)) if need_dot else None
        return nngp, dot
    if name == "erf":
        a = torch.sqrt(1 + 2 * q1) * torch.sqrt(1 + 2 * q2)  # (b1, b2)
        arg = torch.div(2 * k12, a).clamp_(-1.0, 1.0)
        nngp = torch.arcsin(arg).mul_(2 / math.pi)
        dot = None
        if need_dot:
            dot = torch.rsqrt((a * a - 4 * k12 * k12).clamp_(min=torch.finfo(a.dtype).tiny))
            dot.mul_(4 / math.pi)
        return nngp, dot
    return _quadrature(fn, dfn, q1, k12, q2, need_dot=need_dot, nodes=gh_nodes)


def _quadrature(fn, dfn, q1, k12, q2, *, need_dot: bool, nodes: int) -> tuple[Tensor, Tensor | None]:
    z, w = gh_rule(nodes, k12)
    shape = k12.shape
    s1 = torch.sqrt(q1).expand(shape).reshape(-1)
    s2 = torch.sqrt(q2).expand(shape).reshape(-1)
    rho = torch.div(k12.reshape(-1), s1 * s2).clamp_(-1.0, 1.0)
    perp = torch.sqrt((1 - rho * rho).clamp_(min=0.0))
    nngp = torch.empty_like(rho)
    dot = torch.empty_like(rho) if need_dot else None
    for start in range(0, rho.numel(), _PAIR_CHUNK):
        sl = slice(start, start + _PAIR_CHUNK)
        u = s1[sl, None] * z[None, :]  # (m, a)
        # v[m, a, b] = √q2 (ρ z_a + √(1−ρ²) w_b)
        v = s2[sl, None, None] * (rho[sl, None, None] * z[None, :, None] + perp[sl, None, None] * z[None, None, :])
        inner = fn(v) @ w  # (m, a): E_w[φ(v) | z_a]
        nngp[sl] = (fn(u) * inner) @ w
        if need_dot:
            dot[sl] = (dfn(u) * (dfn(v) @ w)) @ w
    return nngp.view(shape), (dot.view(shape) if need_dot else None)


def diag_map(name: str, fn: Callable | None, q: Tensor, *, gh_nodes: int = GH_NODES) -> Tensor:
    """``E[φ(u)²]`` for ``u ~ N(0, q)``, elementwise over ``q`` (the NNGP diagonal's update)."""
    if name == "identity":
        return q
    if name == "relu":
        return q / 2
    if name == "erf":
        return torch.arcsin(2 * q / (1 + 2 * q)) * (2 / math.pi)
    z, w = gh_rule(gh_nodes, q)
    return fn(torch.sqrt(q)[..., None] * z) ** 2 @ w

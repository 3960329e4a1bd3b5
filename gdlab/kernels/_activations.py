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
callable) is integrated numerically over the bivariate Gaussian with Gauss-Hermite rules, in
one of two ways:

- **Mehler expansion** (default; Daniely et al. 2016, Han et al. 2022). With normalized
  Hermite polynomials ``h_j = He_j/√j!`` and ``ρ = k12/√(q1 q2)``,
  ``E[φ(u)φ(v)] = Σ_j c_j(q1) c_j(q2) ρ^j``, ``c_j(q) = E[φ(√q z) h_j(z)]``. The coefficients
  are 1-D Gauss-Hermite integrals computed once per point (a GEMM), so a kernel entry costs
  ``O(J)`` instead of the ``O(N²)`` of a tensor-product rule. The series is truncated where
  Parseval's identity certifies it: ``Σ_{j≥J} c_j(q)² = E[φ²] − Σ_{j<J} c_j(q)²`` bounds the
  error of every entry (Cauchy-Schwarz) and must fall below `MEHLER_TOL` · ``E[φ²]``.
- **Tensor-product Gauss-Hermite** (the fallback when the expansion does not converge within
  `MEHLER_MAX_TERMS`, e.g. for a non-smooth callable, and the scheme of neural-tangents'
  ``stax.ElementwiseNumerical``): ``u = √q1 z``, ``v = √q2 (ρ z + √(1 − ρ²) w)`` with
  independent standard normals, ``E[g(u, v)] ≈ Σ_ab ω_a ω_b g(u(z_a), v(z_a, w_b))``.

These conventions are neural-tangents' ``stax.Relu()``, ``stax.Erf()``, ``stax.Identity()``,
``stax.Gelu()``, ``stax.Sin()`` and ``stax.ElementwiseNumerical(fn, deg)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import roots_hermitenorm
from torch import Tensor
from torch.nn import functional as F

CLOSED_FORM = ("relu", "erf", "identity")

GH_NODES = 64
"""Nodes per dimension of the fallback tensor-product rule (64² = 4096 evaluations per entry).

That rule converges only like ``exp(−c√N)`` for activations with complex poles near the real
axis: for tanh at variance 2 the error of ``E[φ'φ']`` against 256 nodes is 2.5e-3 (16 nodes),
1.5e-4 (32), 1.5e-6 (64), 1.7e-9 (128). It is used only where the Mehler series does not
converge within `MEHLER_MAX_TERMS`; raise ``gh_nodes`` there for more accuracy.
"""

MEHLER_TOL = 1e-10
"""Relative truncation error allowed for the Mehler series (tail energy / ``E[φ²]``, which
bounds every entry's relative error): five orders below the 1e-5 agreement asked of the
kernels, and far below any finite-width effect they are compared with."""

MEHLER_MAX_TERMS = 512
"""Most Hermite terms tried before falling back to the tensor-product rule. At a tail of
1e-12 we measured: tanh 67 terms at pre-activation variance 0.5, 237 at 2, > 384 at 8 (its
poles at ``±iπ/2`` approach the real axis as the variance grows and the coefficients decay
like ``exp(−c√j)``); gelu 26 / 66 / 222; softplus 18 / 48 / 158; sin 12 / 20 / 36."""

_MEHLER_NODES = 1024
"""1-D Gauss-Hermite nodes for the coefficients: enough to integrate ``φ h_j`` for
``j ≤ MEHLER_MAX_TERMS`` to float64 accuracy for the activations above (``n × 1024``
evaluations per layer, negligible next to the ``n²`` kernel)."""

_PAIR_CHUNK = 512
"""Kernel entries per quadrature batch: ``512 · 64² · 8 B = 16 MiB`` of float64 temporaries."""


def _sigmoid_prime(x: Tensor) -> Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def _gelu_prime(x: Tensor) -> Tensor:
    # d/dx [x Φ(x)] = Φ(x) + x φ(x)
    return 0.5 * (1 + torch.erf(x / math.sqrt(2))) + x * torch.exp(-0.5 * x * x) / math.sqrt(
        2 * math.pi
    )


_FUNCTIONS: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "tanh": (torch.tanh, lambda x: 1 - torch.tanh(x) ** 2),
    "sigmoid": (torch.sigmoid, _sigmoid_prime),
    "softplus": (F.softplus, torch.sigmoid),
    "sin": (torch.sin, torch.cos),
    "gelu": (F.gelu, _gelu_prime),
}


def resolve(
    activation: str | Callable[[Tensor], Tensor],
) -> tuple[str, Callable | None, Callable | None]:
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

        # Never a closed-form name: a callable called `relu` is still integrated numerically.
        return f"callable:{getattr(fn, '__name__', '?')}", fn, dfn
    if activation in CLOSED_FORM:
        return activation, None, None
    if activation in _FUNCTIONS:
        fn, dfn = _FUNCTIONS[activation]
        return activation, fn, dfn
    known = sorted((*CLOSED_FORM, *_FUNCTIONS))
    raise ValueError(f"unknown activation {activation!r}; use one of {known} or a callable")


@lru_cache(maxsize=8)
def _gh(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite nodes and weights normalized to the standard normal.

    scipy's rule switches to an asymptotic construction above 150 nodes, where numpy's
    ``hermegauss`` overflows."""
    z, w = roots_hermitenorm(nodes)
    return z, w / w.sum()


def gh_rule(nodes: int, like: Tensor) -> tuple[Tensor, Tensor]:
    """Nodes ``z`` and weights ``ω`` (``Σ ω = 1``) on ``like``'s device and dtype."""
    z, w = _gh(nodes)
    return (
        torch.as_tensor(z, dtype=like.dtype, device=like.device),
        torch.as_tensor(w, dtype=like.dtype, device=like.device),
    )


def dual(
    name: str,
    fn: Callable | None,
    dfn: Callable | None,
    q1: Tensor,
    k12: Tensor,
    q2: Tensor,
    *,
    coef1: Hermite | None = None,
    coef2: Hermite | None = None,
    gh_nodes: int = GH_NODES,
) -> tuple[Tensor, Tensor]:
    """``(E[φ(u)φ(v)], E[φ'(u)φ'(v)])`` for a block of pairs.

    Args:
        name, fn, dfn: from `resolve`.
        q1: ``(b1, 1)`` variances of the rows; q2: ``(1, b2)`` of the columns.
        k12: ``(b1, b2)`` covariances; it may be overwritten.
        coef1, coef2: Hermite coefficients of the rows and columns (`hermite`); when given,
            a numerical activation uses the Mehler series, else the tensor-product rule.
        gh_nodes: nodes per dimension of the tensor-product rule.

    Returns:
        Two ``(b1, b2)`` tensors.
    """
    if name == "identity":
        return k12, torch.ones_like(k12)
    if name == "relu":
        s = torch.sqrt(q1) * torch.sqrt(q2)  # (b1, b2)
        # A zero-variance input (x = 0, σ_b = 0) has cos θ = 0, not 0/0.
        c = torch.div(k12, s.clamp(min=torch.finfo(s.dtype).tiny)).clamp_(-1.0, 1.0)
        theta = torch.arccos(c)
        pi_minus = torch.sub(math.pi, theta)  # π − θ
        sin = torch.sqrt((1 - c * c).clamp_(min=0.0))
        nngp = sin.addcmul_(pi_minus, c).mul_(s).mul_(1 / (2 * math.pi))
        return nngp, pi_minus.mul_(1 / (2 * math.pi))
    if name == "erf":
        a = torch.sqrt(1 + 2 * q1) * torch.sqrt(1 + 2 * q2)  # (b1, b2)
        arg = torch.div(2 * k12, a).clamp_(-1.0, 1.0)
        nngp = torch.arcsin(arg).mul_(2 / math.pi)
        dot = torch.rsqrt((a * a - 4 * k12 * k12).clamp_(min=torch.finfo(a.dtype).tiny))
        return nngp, dot.mul_(4 / math.pi)
    if coef1 is not None and coef2 is not None:
        rho = torch.div(k12, torch.sqrt(q1) * torch.sqrt(q2)).clamp_(-1.0, 1.0)
        return _mehler(coef1.c, coef2.c, rho), _mehler(coef1.d, coef2.d, rho)
    return _quadrature(fn, dfn, q1, k12, q2, nodes=gh_nodes)


class Hermite(NamedTuple):
    """Normalized Hermite coefs of ``φ(√q z)`` (``c``) and ``φ'(√q z)`` (``d``), ``(n, J)``."""

    c: Tensor
    d: Tensor


def hermite(
    fn: Callable, dfn: Callable, q: Tensor, *, max_terms: int = MEHLER_MAX_TERMS
) -> tuple[Hermite, int] | None:
    """Coefficients ``c_j(q_i) = E[φ(√q_i z) h_j(z)]`` and those of ``φ'``, ``(n, max_terms)``,
    and the number of terms after which the Parseval tail of every point is below
    `MEHLER_TOL` · ``E[φ²]`` (for ``φ`` and ``φ'``); ``None`` if ``max_terms`` do not suffice.

    Truncating two point sets at a common ``J`` that certifies both bounds every entry's error
    by ``√(tail_1 tail_2) ≤ MEHLER_TOL · √(E_1 E_2)``. Computed in float64 whatever ``q``'s
    dtype, returned in it. ``q: (n,)``.
    """
    z, w = gh_rule(_MEHLER_NODES, q.new_empty(0, dtype=torch.float64))
    psi = _hermite_functions(z, w, max_terms)  # (N, J): √ω_a h_j(z_a)
    x = torch.sqrt(q.double().clamp(min=0.0))[:, None] * z[None, :]  # (n, N)
    out = []
    for f in (fn, dfn):
        vals = f(x) * torch.sqrt(w)  # √ω_a φ(x_a)
        coef = vals @ psi  # (n, J)
        energy = (vals * vals).sum(1, keepdim=True)  # E[φ²] per point
        tail = energy - torch.cumsum(coef * coef, dim=1)  # energy beyond term j
        ok = (tail <= MEHLER_TOL * energy.clamp(min=torch.finfo(torch.float64).tiny)).all(0)
        if not bool(ok.any()):
            return None
        out.append((coef, int(torch.nonzero(ok)[0]) + 1))
    return Hermite(*(coef.to(q.dtype) for coef, _ in out)), max(t for _, t in out)


def _hermite_functions(z: Tensor, w: Tensor, terms: int) -> Tensor:
    """``√ω_a h_j(z_a)`` for ``j < terms`` by the three-term recurrence
    ``h_{j+1} = (z h_j − √j h_{j−1})/√(j+1)``; scaling by ``√ω`` first keeps every value
    bounded (raw ``He_j`` overflow float64 at the outer nodes)."""
    cols = [torch.sqrt(w), z * torch.sqrt(w)]
    for j in range(1, terms - 1):
        cols.append((z * cols[j] - math.sqrt(j) * cols[j - 1]) / math.sqrt(j + 1))
    return torch.stack(cols[:terms], dim=1)


def _mehler(c1: Tensor, c2: Tensor, rho: Tensor) -> Tensor:
    """``Σ_j c1[i, j] c2[k, j] ρ[i, k]^j`` by Horner's rule (one fused pass per term)."""
    terms = c1.shape[1]
    acc = c1[:, terms - 1, None] * c2[None, :, terms - 1]
    for j in range(terms - 2, -1, -1):
        acc.mul_(rho).addcmul_(c1[:, j, None], c2[None, :, j])
    return acc


def _quadrature(fn, dfn, q1, k12, q2, *, nodes: int) -> tuple[Tensor, Tensor]:
    """Tensor-product Gauss-Hermite rule, ``nodes²`` evaluations per entry."""
    z, w = gh_rule(nodes, k12)
    shape = k12.shape
    s1 = torch.sqrt(q1).expand(shape).reshape(-1)
    s2 = torch.sqrt(q2).expand(shape).reshape(-1)
    rho = torch.div(k12.reshape(-1), s1 * s2).clamp_(-1.0, 1.0)
    perp = torch.sqrt((1 - rho * rho).clamp_(min=0.0))
    nngp = torch.empty_like(rho)
    dot = torch.empty_like(rho)
    for start in range(0, rho.numel(), _PAIR_CHUNK):
        sl = slice(start, start + _PAIR_CHUNK)
        u = s1[sl, None] * z[None, :]  # (m, a)
        # v[m, a, b] = √q2 (ρ z_a + √(1−ρ²) w_b)
        v = s2[sl, None, None] * (
            rho[sl, None, None] * z[None, :, None] + perp[sl, None, None] * z[None, None, :]
        )
        inner = fn(v) @ w  # (m, a): E_w[φ(v) | z_a]
        nngp[sl] = (fn(u) * inner) @ w
        dot[sl] = (dfn(u) * (dfn(v) @ w)) @ w
    return nngp.view(shape), dot.view(shape)


def diag_map(name: str, fn: Callable | None, q: Tensor) -> Tensor:
    """``E[φ(u)²]`` for ``u ~ N(0, q)``, elementwise over ``q`` (the NNGP diagonal's update).

    Numerical activations use the 1-D rule of the Hermite coefficients (`_MEHLER_NODES`
    nodes): a 64-node rule is only good to ~1e-6 for tanh at variance 2, and the diagonal
    feeds every later layer.
    """
    if name == "identity":
        return q
    if name == "relu":
        return q / 2
    if name == "erf":
        return torch.arcsin(2 * q / (1 + 2 * q)) * (2 / math.pi)
    z, w = gh_rule(_MEHLER_NODES, q.new_empty(0, dtype=torch.float64))
    vals = fn(torch.sqrt(q.double())[..., None] * z) ** 2 @ w
    return vals.to(q.dtype)

"""Singular-mode tracking of deep linear networks (Saxe, McClelland & Ganguli 2014).

A deep linear net ``x ↦ W_L ⋯ W_1 x`` trained on ``L = ½ E‖y − W x‖²`` with whitened inputs
(``Σ_xx = I``) sees only the input-output correlation ``Σ_yx = M = Σ_α s_α u_α v_αᵀ``. The
end-to-end map's strength along mode α is ``u_α(t) = u_αᵀ W(t) v_α``; Saxe et al. solve the
one-hidden-layer case (two weight matrices) in closed form for decoupled modes:

.. math:: u_α(t) = \\frac{s_α e^{2 s_α t/τ}}{e^{2 s_α t/τ} − 1 + s_α/u_α(0)},

a sigmoid from ``u_α(0)`` to ``s_α`` whose half-rise time is
``t_α = \\frac{τ}{2 s_α} \\ln(s_α/u_α(0) − 1)`` (Saxe et al. 2014, ICLR, the exact
solution for one hidden layer). With
gradient descent at step size ``η``, ``t = η · step`` and ``τ = 1``.

From a small *random* (not mode-aligned) init, mode α's hidden-layer vectors
``p_α = W_1 v_α`` and ``q_α = W_2ᵀ u_α`` first obey the linear system ``ṗ = s q, q̇ = s p``;
the growing part ``(p + q)/2`` sets the effective start ``u_α(0) ≈ ‖p_α + q_α‖²/4``
(`effective_initial_strength`), after which the closed form applies (valid when the hidden
width is large enough that different modes' vectors are nearly orthogonal).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


def end_to_end(weights: Sequence[Tensor]) -> Tensor:
    """The product ``W_L ⋯ W_1`` of weights given first layer first (each ``(out, in)``)."""
    if not weights:
        raise ValueError("need at least one weight matrix")
    out = weights[0]
    for w in weights[1:]:
        if w.shape[1] != out.shape[0]:
            raise ValueError(f"shapes do not chain: {tuple(w.shape)} after {tuple(out.shape)}")
        out = w @ out
    return out


def mode_overlaps(w: Tensor, u: Tensor, v: Tensor) -> Tensor:
    """``Uᵀ W V``: ``(K, K)`` strengths of ``w: (m, d)`` between output modes ``u: (m, K)``
    and input modes ``v: (d, K)``; the diagonal is the mode strengths, the rest is leakage."""
    if u.shape[0] != w.shape[0] or v.shape[0] != w.shape[1]:
        raise ValueError(f"u {tuple(u.shape)} and v {tuple(v.shape)} do not fit w {tuple(w.shape)}")
    return u.T @ w @ v


def mode_strengths(w: Tensor, u: Tensor, v: Tensor) -> Tensor:
    """``diag(Uᵀ W V)``: the strength ``u_αᵀ W v_α`` of each mode, ``(K,)``."""
    return torch.einsum("mk,md,dk->k", u, w, v)


def effective_initial_strength(w1: Tensor, w2: Tensor, u: Tensor, v: Tensor) -> Tensor:
    """``‖W_1 v_α + W_2ᵀ u_α‖² / 4`` per mode ``(K,)`` for a two-matrix net ``W_2 W_1``.

    The part of the random init that grows along mode α (module docstring); use it as
    ``u_α(0)`` in `saxe_strength` / `saxe_learning_time`.
    """
    z = w1 @ v + w2.T @ u  # (h, K)
    return z.pow(2).sum(0) / 4


def saxe_strength(t, s, u0, tau: float = 1.0):
    """Saxe et al.'s closed-form mode strength ``u(t)`` (numpy broadcasting over arguments)."""
    t, s, u0 = np.asarray(t, float), np.asarray(s, float), np.asarray(u0, float)
    if np.any(s <= 0) or np.any(u0 <= 0) or tau <= 0:
        raise ValueError("s, u0 and tau must be positive")
    # Divide through by e^{2st/τ} to stay finite at large t.
    decay = np.exp(-2 * s * t / tau)
    return s / (1 - decay + (s / u0) * decay)


def saxe_learning_time(s, u0, tau: float = 1.0, frac: float = 0.5):
    """Time at which ``u(t) = frac · s`` in the closed form:
    ``t = τ/(2s) · ln(frac (s/u0 − 1) / (1 − frac))``; requires ``u0 < frac · s``."""
    s, u0 = np.asarray(s, float), np.asarray(u0, float)
    if not 0 < frac < 1:
        raise ValueError(f"frac must be in (0, 1), got {frac}")
    if np.any(u0 <= 0) or np.any(u0 >= frac * s):
        raise ValueError("need 0 < u0 < frac·s (the mode must start below the level)")
    return tau / (2 * s) * np.log(frac * (s / u0 - 1) / (1 - frac))


def crossing_times(times: Sequence[float], values, levels) -> np.ndarray:
    """First time each series reaches its level, by linear interpolation; NaN if never.

    Args:
        times: ``(T,)`` increasing.
        values: ``(T, K)`` one series per column.
        levels: ``(K,)`` or a scalar.

    Returns:
        ``(K,)`` crossing times.
    """
    t = np.asarray(times, float)
    vals = np.asarray(values, float)
    if vals.ndim != 2 or vals.shape[0] != t.shape[0]:
        raise ValueError(f"values must be (T, K) with T = {t.shape[0]}, got {vals.shape}")
    lv = np.broadcast_to(np.asarray(levels, float), (vals.shape[1],))
    out = np.full(vals.shape[1], math.nan)
    for k in range(vals.shape[1]):
        above = np.nonzero(vals[:, k] >= lv[k])[0]
        if len(above) == 0:
            continue
        i = above[0]
        if i == 0:
            out[k] = t[0]
            continue
        v0, v1 = vals[i - 1, k], vals[i, k]
        out[k] = t[i - 1] + (lv[k] - v0) / (v1 - v0) * (t[i] - t[i - 1])
    return out

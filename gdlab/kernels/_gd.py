"""Mean predictions of kernel gradient descent on the squared loss (linearized training).

Convention: the loss is gdlab's `gdlab.train.mse`, ``L = ½ · (1/n) Σ_i ‖f(x_i) − y_i‖²`` with
``n`` training *samples* (not ``n·k`` entries). Full-batch GD with learning rate ``η`` on a
network linearized around its initialization (Lee et al. 2019, Eq. 8-11) moves the outputs
by ``f_{t+1} = f_t − (η/n) Θ (f_t − y)`` on the training set, so

.. math::
    f_t(X) = y + (I − ηΘ/n)^t (f_0(X) − y),\\qquad
    f_t(x_*) = f_0(x_*) + Θ(x_*, X) Θ^{-1} (I − (I − ηΘ/n)^t)(y − f_0(X)),

and gradient flow (``dθ/dt = −∇L``) replaces ``(I − ηΘ/n)^t`` by ``e^{−Θt/n}``. Both are
evaluated in the eigenbasis of ``Θ``; ``Θ^{-1}(I − (I − ηΘ/n)^t)`` is taken through its
limit ``ηt/n`` on (numerically) zero eigenvalues, and as a pseudo-inverse at ``t = ∞``.

neural-tangents' ``predict.gradient_descent_mse`` normalizes by ``y.size = n·k``; for one
output the two agree, for ``k`` outputs multiply its learning rate by ``k`` to match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor


class GDPrediction(NamedTuple):
    """Predicted outputs: ``train`` ``([T,] n[, k])`` and ``test`` ``([T,] m[, k])`` or ``None``."""

    train: Tensor
    test: Tensor | None


def max_learning_rate(k_train_train: Tensor) -> float:
    """Largest stable learning rate of GD on `gdlab.train.mse` in the kernel regime.

    The training residual evolves by ``I − ηΘ/n``, which contracts iff ``η λ_max(Θ)/n < 2``:

    .. math:: η_{max} = 2 n / λ_{max}(Θ)

    Args:
        k_train_train: ``(n, n)`` kernel, or ``(n, n, k, k)`` empirical NTK.

    Returns:
        ``2n/λ_max`` (``inf`` for a zero kernel).
    """
    mat, n, _ = _as_matrix(k_train_train)
    lam_max = float(torch.linalg.eigvalsh(_sym(mat))[-1])
    return 2.0 * n / lam_max if lam_max > 0 else math.inf


def gd_predict(
    k_train_train: Tensor,
    y_train: Tensor,
    times: float | Sequence[float] | Tensor,
    *,
    lr: float | None = None,
    k_test_train: Tensor | None = None,
    f0_train: Tensor | None = None,
    f0_test: Tensor | None = None,
) -> GDPrediction:
    """Mean outputs of GD (``lr`` given) or gradient flow (``lr=None``) at the given times.

    Args:
        k_train_train: ``Θ(X, X)``: ``(n, n)`` (shared by all outputs, e.g. infinite-width)
            or ``(n, n, k, k)`` (an empirical NTK with ``k`` outputs).
        y_train: targets ``(n,)`` or ``(n, k)``.
        times: GD steps (with ``lr``) or flow times; scalar or sequence; ``math.inf`` allowed.
        lr: learning rate of discrete GD; ``None`` for gradient flow.
        k_test_train: ``Θ(X_*, X)``: ``(m, n)`` or ``(m, n, k, k)``; ``None`` skips the test set.
        f0_train, f0_test: outputs at initialization (zeros when ``None``: the mean over
            initializations of an infinitely wide net).

    Returns:
        `GDPrediction`; a sequence of times adds a leading time axis.

    Raises:
        ValueError: shape mismatch, a negative time, or ``t = ∞`` with ``lr`` at or above
            `max_learning_rate` (GD diverges there).

    Example:
        >>> K = torch.eye(2, dtype=torch.float64)
        >>> y = torch.tensor([1.0, -1.0], dtype=torch.float64)
        >>> gd_predict(K, y, 1, lr=1.0).train  # one step: f = (η/n) y = y/2
        tensor([ 0.5000, -0.5000], dtype=torch.float64)
    """
    mat, n, k = _as_matrix(k_train_train)
    y = _as_outputs(y_train, n, k, "y_train")
    f0 = torch.zeros_like(y) if f0_train is None else _as_outputs(f0_train, n, k, "f0_train")
    ts, scalar = _times(times, y)
    lam, vecs = torch.linalg.eigh(_sym(mat))
    lam = lam.clamp(min=0.0)  # round-off can make a PSD kernel's smallest eigenvalues negative
    if lr is not None and lr <= 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if lr is not None and bool(torch.isinf(ts).any()) and lr * float(lam[-1]) / n >= 2:
        raise ValueError(
            f"lr={lr} ≥ max_learning_rate={2 * n / float(lam[-1]):.4g}: GD diverges as t → ∞"
        )
    # Eigenvalues below this are treated as zero (the pseudo-inverse cut-off of numpy's pinv).
    cutoff = float(lam[-1]) * n * k * torch.finfo(lam.dtype).eps
    resid_coef = vecs.T @ (f0 - y).reshape(n * k, -1)  # (nk, c): Vᵀ(f_0 − y)
    decay = _decay(lam, ts, n, lr)  # (T, nk): (1 − ηλ/n)^t or e^{−λt/n}
    train = y.reshape(n * k, -1)[None] + vecs[None] @ (decay[..., None] * resid_coef[None])
    test = None
    if k_test_train is not None:
        kt, m = _as_test_matrix(k_test_train, n, k)
        f0t = torch.zeros(m * k, y.reshape(n * k, -1).shape[1], dtype=y.dtype, device=y.device)
        if f0_test is not None:
            f0t = _as_outputs(f0_test, m, k, "f0_test").reshape(m * k, -1)
        gain = _gain(lam, ts, n, lr, cutoff)  # (T, nk): (1 − decay)/λ
        test = f0t[None] - (kt @ vecs)[None] @ (gain[..., None] * resid_coef[None])
        test = _shape_like(test, m, k, y_train, scalar)
    return GDPrediction(_shape_like(train, n, k, y_train, scalar), test)


def _decay(lam: Tensor, ts: Tensor, n: int, lr: float | None) -> Tensor:
    """Residual factor per eigenvalue: ``(1 − ηλ/n)^t`` (GD) or ``exp(−λt/n)`` (flow)."""
    t = ts[:, None]
    if lr is None:
        return torch.exp(-lam[None] * t / n)
    base = 1 - lr * lam[None] / n
    out = torch.pow(base, t)
    return torch.where(torch.isinf(t) & (base.abs() < 1), torch.zeros_like(out), out)


def _gain(lam: Tensor, ts: Tensor, n: int, lr: float | None, cutoff: float) -> Tensor:
    """``(1 − decay)/λ``, through its limit ``ηt/n`` (``t/n`` for flow) as ``λ → 0``."""
    t = ts[:, None]
    step = 1.0 if lr is None else lr
    x = step * lam[None] / n  # ηλ/n
    if lr is None:
        one_minus = -torch.expm1(-x * t)
    else:
        # 1 − (1 − x)^t = −expm1(t log1p(−x)) is exact for small x; plain pow for x ≥ 1
        safe = torch.where(x < 1, x, torch.zeros_like(x))
        one_minus = torch.where(
            x < 1, -torch.expm1(t * torch.log1p(-safe)), 1 - torch.pow(1 - x, t)
        )
    small = lam[None] <= cutoff
    gain = one_minus / torch.where(small, torch.ones_like(lam[None]), lam[None])
    limit = torch.where(torch.isinf(t), torch.zeros_like(t), step * t / n).expand_as(gain)
    return torch.where(small, limit, gain)


def _sym(mat: Tensor) -> Tensor:
    return 0.5 * (mat + mat.T)


def _as_matrix(kernel: Tensor) -> tuple[Tensor, int, int]:
    """``(n, n)`` or ``(n, n, k, k)`` -> ``((n·k, n·k), n, k)`` with sample-major rows."""
    if kernel.ndim == 2 and kernel.shape[0] == kernel.shape[1]:
        return kernel, kernel.shape[0], 1
    if (
        kernel.ndim == 4
        and kernel.shape[0] == kernel.shape[1]
        and kernel.shape[2] == kernel.shape[3]
    ):
        n, _, k, _ = kernel.shape
        return kernel.permute(0, 2, 1, 3).reshape(n * k, n * k), n, k
    raise ValueError(f"k_train_train must be (n, n) or (n, n, k, k), got {tuple(kernel.shape)}")


def _as_test_matrix(kernel: Tensor, n: int, k: int) -> tuple[Tensor, int]:
    if k == 1 and kernel.ndim == 2 and kernel.shape[1] == n:
        return kernel, kernel.shape[0]
    if kernel.ndim == 4 and kernel.shape[1:] == (n, k, k):
        m = kernel.shape[0]
        return kernel.permute(0, 2, 1, 3).reshape(m * k, n * k), m
    raise ValueError(
        f"k_test_train must be (m, {n})"
        + (f" or (m, {n}, {k}, {k})" if k > 1 else "")
        + f", got {tuple(kernel.shape)}"
    )


def _as_outputs(y: Tensor, n: int, k: int, what: str) -> Tensor:
    """Targets as ``(n, c)`` where ``c`` is the number of columns fitted with one kernel."""
    if y.shape[0] != n:
        raise ValueError(f"{what} has {y.shape[0]} rows, the kernel {n}")
    if k > 1:
        if y.ndim != 2 or y.shape[1] != k:
            raise ValueError(
                f"{what} must be (n, {k}) for a kernel with {k} outputs, got {tuple(y.shape)}"
            )
        return y.reshape(n * k, 1).reshape(n, k)
    return y.reshape(n, -1)


def _times(times, like: Tensor) -> tuple[Tensor, bool]:
    ts = torch.as_tensor(times, dtype=like.dtype, device=like.device)
    scalar = ts.ndim == 0
    ts = ts.reshape(-1)
    if bool((ts < 0).any()) or bool(torch.isnan(ts).any()):
        raise ValueError("times must be ≥ 0")
    return ts, scalar


def _shape_like(pred: Tensor, m: int, k: int, y_train: Tensor, scalar: bool) -> Tensor:
    """``(T, m·k, c)`` back to ``([T,] m[, k or c])`` following ``y_train``'s layout."""
    t = pred.shape[0]
    out = pred.reshape(t, m, -1) if (k > 1 or y_train.ndim > 1) else pred.reshape(t, m)
    return out[0] if scalar else out

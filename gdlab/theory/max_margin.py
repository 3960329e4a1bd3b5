"""The hard-margin SVM through the origin: the direction GD on logistic loss converges to.

Soudry, Hoffer, Nacson, Gunasekar & Srebro (2018): on linearly separable data, GD on the
logistic loss (no bias) satisfies ``w_t/‖w_t‖ → ŵ/‖ŵ‖`` where

.. math:: ŵ = \\arg\\min_w ‖w‖^2 \\quad\\text{s.t.}\\quad y_i\\, x_i·w ≥ 1 \\;\\; ∀i.

This is a *least-distance program* (LDP). Lawson & Hanson (1974, Ch. 23) solve it exactly
with one non-negative least-squares problem: with ``G = diag(y) X`` and ``h = 1``,

.. math:: u^* = \\arg\\min_{u ≥ 0} ‖E u − f‖, \\quad E = \\begin{pmatrix} Gᵀ \\\\ hᵀ \\end{pmatrix},
          \\; f = (0, …, 0, 1)ᵀ, \\qquad r = E u^* − f, \\qquad ŵ = −r_{1:d} / r_{d+1},

and the constraints are infeasible (data not separable) exactly when ``r = 0``. The
active-set NNLS terminates in finitely many steps, so the solution is exact up to rounding.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
import torch
from torch import Tensor

# ‖r‖ below this (relative to the data scale) means the LDP has no solution: not separable.
_INFEASIBLE_RTOL = 1e-10


def hard_margin_svm(x: Tensor, y: Tensor) -> Tensor:
    """Max-margin separator through the origin, ``ŵ`` with ``min_i y_i x_i·ŵ = 1``.

    Args:
        x: ``(n, d)`` inputs.
        y: ``(n,)`` labels in ``{−1, +1}``.

    Returns:
        ``(d,)`` float64 tensor ``ŵ``; the geometric margin is ``1/‖ŵ‖``.

    Raises:
        ValueError: labels not in ``{−1, +1}`` or the data not linearly separable
            through the origin.

    Example:
        >>> x = torch.tensor([[1.0, 0.0], [-1.0, 0.5]]); y = torch.tensor([1.0, -1.0])
        >>> hard_margin_svm(x, y)
        tensor([1., 0.], dtype=torch.float64)
    """
    xs = np.asarray(x.detach().cpu(), dtype=np.float64)
    ys = np.asarray(y.detach().cpu(), dtype=np.float64).reshape(-1)
    if xs.ndim != 2 or ys.shape[0] != xs.shape[0]:
        raise ValueError(f"x must be (n, d) and y (n,), got {xs.shape} and {ys.shape}")
    if not np.all(np.isin(ys, (-1.0, 1.0))):
        raise ValueError("labels must be in {-1, +1}")
    g = ys[:, None] * xs  # (n, d): rows y_i x_i
    n, d = g.shape
    e = np.vstack([g.T, np.ones((1, n))])  # (d+1, n)
    f = np.zeros(d + 1)
    f[-1] = 1.0
    u, _ = scipy.optimize.nnls(e, f, maxiter=50 * (n + d + 1))
    r = e @ u - f
    if np.linalg.norm(r) <= _INFEASIBLE_RTOL * max(1.0, np.abs(g).max()):
        raise ValueError("data are not linearly separable through the origin")
    w = -r[:d] / r[d]
    return torch.as_tensor(w, dtype=torch.float64)


def margin(x: Tensor, y: Tensor, w: Tensor) -> float:
    """Normalized margin ``min_i y_i x_i·w / ‖w‖`` (negative if ``w`` misclassifies)."""
    w = w.to(torch.float64).reshape(-1)
    return float(((y.double().reshape(-1) * (x.double() @ w)).min() / w.norm()).item())

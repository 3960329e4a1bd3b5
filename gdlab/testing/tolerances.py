"""Named tolerances keyed by dtype, and an `assert_close` that names the worst entries.

float64 tolerances are tight enough to catch a wrong formula (a missing factor of 2, a
transposed operand) while allowing for rounding in sums of ~1e6 terms.
"""

from __future__ import annotations

import torch
from torch import Tensor

TOL: dict[torch.dtype, dict[str, float]] = {
    torch.float64: {"rtol": 1e-9, "atol": 1e-12},
    torch.float32: {"rtol": 1e-4, "atol": 1e-6},
}


def rel_error(a: Tensor, b: Tensor) -> float:
    """``‖a − b‖_F / ‖b‖_F`` (``‖a − b‖_F`` when ``b`` is zero)."""
    diff = torch.linalg.vector_norm((a - b).reshape(-1).double()).item()
    ref = torch.linalg.vector_norm(b.reshape(-1).double()).item()
    return diff / ref if ref > 0 else diff


def assert_close(actual: Tensor, expected: Tensor, *, rtol: float, atol: float = 0.0) -> None:
    """Elementwise ``|a − e| ≤ atol + rtol·|e|``; on failure, report the five worst entries."""
    if actual.shape != expected.shape:
        raise AssertionError(f"shape {tuple(actual.shape)} != expected {tuple(expected.shape)}")
    a, e = actual.detach().double().cpu(), expected.detach().double().cpu()
    excess = (a - e).abs() - (atol + rtol * e.abs())
    if bool((excess <= 0).all()):
        return
    flat = excess.reshape(-1)
    worst = torch.topk(flat, min(5, flat.numel())).indices
    lines = [
        f"  at {tuple(int(i) for i in torch.unravel_index(w, e.shape))}: "
        f"{a.reshape(-1)[w].item():.10g} vs {e.reshape(-1)[w].item():.10g}"
        for w in worst
    ]
    n_bad = int((flat > 0).sum())
    raise AssertionError(
        f"{n_bad}/{flat.numel()} entries differ (rtol={rtol}, atol={atol}); "
        f"rel. Frobenius error {rel_error(a, e):.3e}; worst:\n" + "\n".join(lines)
    )

"""Checks of hyper-parameters, shared by the rules: bad values raise `ValueError` early.

Each check names the hyper-parameter and the range it must lie in, so the message says
what to change (``betas[0] must be in [0, 1), got 1.2``).
"""

from __future__ import annotations

import math
from collections.abc import Callable


def check_lr(lr: float | Callable) -> None:
    """A learning rate is a schedule (any callable) or a finite number ``≥ 0``."""
    if callable(lr):
        return
    check_nonnegative("lr", lr)


def check_nonnegative(name: str, value: float) -> None:
    """``value`` is a finite number ``≥ 0``."""
    v = _number(name, value)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_positive(name: str, value: float) -> None:
    """``value`` is a finite number ``> 0``."""
    v = _number(name, value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def check_unit_interval(name: str, value: float) -> None:
    """``value`` lies in ``[0, 1)`` (a decay rate or momentum coefficient)."""
    v = _number(name, value)
    if not 0 <= v < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")


def check_betas(betas: tuple[float, float]) -> None:
    """Two decay rates, each in ``[0, 1)``."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    check_unit_interval("betas[0]", betas[0])
    check_unit_interval("betas[1]", betas[1])


def check_positive_int(name: str, value: int) -> None:
    """``value`` is an integer ``≥ 1``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def check_choice(name: str, value: object, choices: tuple) -> None:
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def _number(name: str, value: float) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None

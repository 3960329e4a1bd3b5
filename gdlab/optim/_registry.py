"""Named update rules, for `torch_optimizer` and ``gdlab list --kind optimizer``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gdlab.errors import UserInputError, did_you_mean
from gdlab.optim._base import GradientTransformation


@dataclass(frozen=True)
class OptimizerSpec:
    """A registered rule: its factory (hyper-parameters -> transformation) and provenance."""

    name: str
    factory: Callable[..., GradientTransformation]
    source: str
    rule: str


_OPTIMIZERS: dict[str, OptimizerSpec] = {}


def register_optimizer(name: str, factory, *, source: str, rule: str) -> OptimizerSpec:
    """Register ``factory`` under ``name`` (unique)."""
    if name in _OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} registered twice")
    spec = OptimizerSpec(name, factory, source, rule)
    _OPTIMIZERS[name] = spec
    return spec


def get_optimizer(name: str) -> OptimizerSpec:
    """The spec registered as ``name``; unknown names raise `UserInputError`."""
    try:
        return _OPTIMIZERS[name]
    except KeyError:
        known = list(_OPTIMIZERS)
        raise UserInputError(
            f"unknown optimizer {name!r}.{did_you_mean(name, known)} Known: {', '.join(known)}"
        ) from None


def optimizer_names() -> list[str]:
    """Registered optimizer names, in registration order."""
    return list(_OPTIMIZERS)


def all_optimizers() -> list[OptimizerSpec]:
    """Every registered optimizer spec."""
    return list(_OPTIMIZERS.values())

"""Named update rules, for `torch_optimizer` and ``gdlab list --kind optimizer``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gdlab.errors import UserInputError, did_you_mean
from gdlab.optim._base import GradientTransformation

INTERFACES = ("gradient", "particles")
"""``gradient``: the factory returns a `GradientTransformation` (usable by `torch_optimizer`);
``particles``: a derivative-free particle method with its own functions (CBO)."""


@dataclass(frozen=True)
class OptimizerSpec:
    """A registered rule: its factory (hyper-parameters -> transformation) and provenance.

    ``interface`` is ``"gradient"`` for update rules (the factory returns a
    `GradientTransformation`) and ``"particles"`` for particle methods such as CBO, whose
    factory is the method's driver (e.g. `gdlab.optim.cbo.cbo_minimize`).
    """

    name: str
    factory: Callable[..., GradientTransformation]
    source: str
    rule: str
    interface: str = "gradient"


_OPTIMIZERS: dict[str, OptimizerSpec] = {}


def register_optimizer(
    name: str, factory, *, source: str, rule: str, interface: str = "gradient"
) -> OptimizerSpec:
    """Register ``factory`` under ``name`` (unique)."""
    if name in _OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} registered twice")
    if interface not in INTERFACES:
        raise ValueError(f"interface must be one of {INTERFACES}, got {interface!r}")
    spec = OptimizerSpec(name, factory, source, rule, interface)
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

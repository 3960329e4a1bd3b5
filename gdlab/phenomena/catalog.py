"""The registry of phenomena: plain data keyed by a stable name."""

from __future__ import annotations

from gdlab.errors import UserInputError, did_you_mean
from gdlab.phenomena._protocol import Phenomenon

_REGISTRY: dict[str, Phenomenon] = {}


def register(phen: Phenomenon) -> Phenomenon:
    """Add ``phen`` to the catalog (names are unique); returns it."""
    if phen.name in _REGISTRY and _REGISTRY[phen.name] is not phen:
        raise ValueError(f"phenomenon {phen.name!r} is registered twice")
    _REGISTRY[phen.name] = phen
    return phen


def get(name: str) -> Phenomenon:
    """The phenomenon called ``name``; unknown names raise `UserInputError` with a suggestion."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UserInputError(
            f"unknown phenomenon {name!r}.{did_you_mean(name, names())} "
            "Run `gdlab list` to see them all."
        ) from None


def names() -> list[str]:
    """Registered names in registration (catalog) order."""
    return list(_REGISTRY)


def all_phenomena() -> list[Phenomenon]:
    """Every registered phenomenon, in catalog order."""
    return list(_REGISTRY.values())

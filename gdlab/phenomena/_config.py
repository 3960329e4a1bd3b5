"""Resolve a phenomenon's config from a preset and ``key=value`` overrides.

Overrides are typed by the Config dataclass: ints, floats, bools, strings and tuples of
those (written ``1,2,3``). Unknown keys, wrong types and values the Config rejects raise
`UserInputError` with the fix in the message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from typing import Any

from gdlab.errors import UserInputError, did_you_mean
from gdlab.phenomena._protocol import Phenomenon

PRESETS = ("quick", "full")


def resolve_config(
    phen: Phenomenon, preset: str = "quick", overrides: dict[str, Any] | None = None
) -> Any:
    """Build ``phen.Config`` from a preset and overrides (strings are parsed by field type)."""
    if preset not in PRESETS and preset not in phen.presets:
        raise UserInputError(f"unknown preset {preset!r} for {phen.name}; use one of {PRESETS}")
    values: dict[str, Any] = dict(phen.presets.get(preset, {}))
    hints = typing.get_type_hints(phen.Config)
    valid = [f.name for f in dataclasses.fields(phen.Config)]
    for key, raw in (overrides or {}).items():
        if key not in valid:
            raise UserInputError(
                f"unknown override key {key!r} for {phen.name}.{did_you_mean(key, valid)} "
                f"Valid keys: {', '.join(valid)}"
            )
        values[key] = parse_value(raw, hints[key], key) if isinstance(raw, str) else raw
    try:
        return phen.Config(**values)
    except (ValueError, TypeError) as e:
        raise UserInputError(f"invalid config for {phen.name}: {e}") from None


def parse_value(raw: str, tp: Any, key: str = "value") -> Any:
    """Parse ``raw`` as type ``tp`` (int, float, bool, str, tuple[T, ...], Literal, Optional)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is getattr(__import__("types"), "UnionType", None):
        if raw.lower() in ("none", "null") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return parse_value(raw, inner[0], key)
    if origin is typing.Literal:
        if raw not in args:
            raise UserInputError(f"{key} must be one of {list(args)}, got {raw!r}")
        return raw
    if origin is tuple:
        elem = args[0] if args else str
        parts = [p for p in raw.replace(" ", "").split(",") if p != ""]
        return tuple(parse_value(p, elem, key) for p in parts)
    try:
        if tp is bool:
            low = raw.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if tp is int:
            f = float(raw)
            if not f.is_integer():
                raise ValueError
            return int(f)
        if tp is float:
            return float(raw)
        if tp is str:
            return raw
    except ValueError:
        raise UserInputError(
            f"{key} expects {getattr(tp, '__name__', tp)}, got {raw!r}"
        ) from None
    raise UserInputError(f"{key}: cannot parse overrides of type {tp}")


def config_dict(cfg: Any) -> dict[str, Any]:
    """The config as a JSON-ready dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def config_hash(name: str, cfg: Any, device: str = "cpu") -> str:
    """Stable 16-hex-digit hash of phenomenon, resolved config and device."""
    blob = json.dumps({"phenomenon": name, "config": config_dict(cfg), "device": device},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["a=1", "b=x,y"]`` -> ``{"a": "1", "b": "x,y"}``."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise UserInputError(f"override {item!r} is not key=value (e.g. --set lr=0.1)")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def config_from_dict(phen: Phenomenon, data: dict[str, Any]) -> Any:
    """Rebuild a stored config (JSON lists become the tuples the dataclass declares)."""
    hints = typing.get_type_hints(phen.Config)
    valid = {f.name for f in dataclasses.fields(phen.Config)}
    kwargs = {}
    for k, v in data.items():
        if k not in valid:
            continue  # a field removed since the run was stored
        if isinstance(v, list) and typing.get_origin(hints[k]) is tuple:
            v = tuple(v)
        kwargs[k] = v
    return phen.Config(**kwargs)

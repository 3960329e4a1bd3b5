"""Expand ``NAME × seeds × overrides`` into run specifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gdlab.errors import UserInputError
from gdlab.phenomena import catalog
from gdlab.phenomena._config import config_dict, config_hash, resolve_config

MAX_SEEDS = 1000


@dataclass(frozen=True)
class RunSpec:
    """One run: a phenomenon, its resolved config, one seed, a device.

    ``module`` names the module that defines the phenomenon, so that a worker process (pool
    or Ray) can import a phenomenon registered outside `gdlab.phenomena` (a plugin, a test).
    """

    phenomenon: str
    preset: str
    config: Any
    config_hash: str
    seed: int
    device: str
    module: str = ""

    @property
    def key(self) -> tuple[str, str, int]:
        """What makes two runs the same run: ``(phenomenon, config_hash, seed)``."""
        return (self.phenomenon, self.config_hash, self.seed)


@dataclass(frozen=True)
class Plan:
    """All seeds of one phenomenon at one config."""

    phenomenon: str
    preset: str
    config: Any
    config_hash: str
    seeds: tuple[int, ...]
    device: str
    module: str = ""

    def specs(self) -> list[RunSpec]:
        """One `RunSpec` per seed."""
        return [RunSpec(self.phenomenon, self.preset, self.config, self.config_hash, s, self.device,
                        self.module) for s in self.seeds]

    @property
    def config_dict(self) -> dict[str, Any]:
        """The resolved config as JSON-ready data."""
        return config_dict(self.config)


def make_plans(
    names: str | list[str],
    *,
    preset: str = "quick",
    seeds: int | list[int] | None = None,
    overrides: dict[str, Any] | None = None,
    device: str = "cpu",
) -> list[Plan]:
    """Resolve names (``"all"`` for the whole catalog) into plans.

    ``seeds`` is a count (seeds ``0..N−1``), an explicit list, or ``None`` for each
    phenomenon's default. Overrides apply to every named phenomenon; with ``"all"`` a key
    must exist in each, so overrides are only allowed with explicit names.
    """
    all_names = catalog.names()
    if names == "all" or names == ["all"]:
        if overrides:
            raise UserInputError("--set overrides need explicit phenomenon names, not 'all'")
        selected = all_names
    else:
        selected = [names] if isinstance(names, str) else list(names)
        if not selected:
            raise UserInputError("no phenomenon given; run `gdlab list` to see them")
    device = _check_device(device)
    plans = []
    for name in selected:
        phen = catalog.get(name)
        cfg = resolve_config(phen, preset, overrides)
        seed_list = _seed_list(seeds, phen.default_seeds)
        plans.append(Plan(name, preset, cfg, config_hash(name, cfg, device), seed_list, device,
                          module=getattr(phen.run, "__module__", "") or ""))
    return plans


def _seed_list(seeds: int | list[int] | None, default: int) -> tuple[int, ...]:
    if seeds is None:
        return tuple(range(default))
    if isinstance(seeds, bool):
        raise UserInputError("seeds must be a positive integer")
    if isinstance(seeds, int):
        if not 1 <= seeds <= MAX_SEEDS:
            raise UserInputError(f"seeds must be between 1 and {MAX_SEEDS}, got {seeds}")
        return tuple(range(seeds))
    out = tuple(int(s) for s in seeds)
    if not out or any(s < 0 for s in out) or len(set(out)) != len(out):
        raise UserInputError(f"seed list must be distinct non-negative integers, got {list(seeds)}")
    return out


def _check_device(device: str) -> str:
    import torch

    if device == "cpu":
        return device
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UserInputError("--device cuda requested but no CUDA device is available; "
                                 "use --device cpu")
        index = device.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise UserInputError(f"no CUDA device {device!r}: this machine has "
                                 f"{torch.cuda.device_count()} (cuda:0 ...)")
        return device
    raise UserInputError(f"device must be cpu or cuda[:N], got {device!r}")

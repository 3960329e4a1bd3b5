"""The phenomenon protocol: what one claim module provides, and what it is given.

A phenomenon module reads like the paper's experiment section::

    @dataclass(frozen=True)
    class Config:            # defaults are the `quick` size
        n: int = 40
        ...

    def run(cfg: Config, ctx: RunContext) -> dict:        # one seed: train, measure
        ...
        return {"cosine": 0.995, ...}                      # JSON-ready numbers and lists

    def verdict(cfg: Config, runs: list[RunRecord]) -> Verdict:   # all seeds
        ...

    def figure(cfg: Config, runs: list[RunRecord]):       # theory over measurement
        ...

    PHENOMENON = register(Phenomenon(name="...", claim="...", source="...", Config=Config,
                                     run=run, verdict=verdict, figure=figure,
                                     presets={"full": {...}}))

Phenomena know nothing of the store, the runner or the CLI: ``run`` gets a `RunContext`
(seed, device, a series logger, a progress range) and returns its measurements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import torch

from gdlab.phenomena._verdict import Verdict


@dataclass
class RunContext:
    """What a phenomenon's ``run`` receives besides its config.

    Attributes:
        seed: the replicate's seed; global RNGs are already seeded from it.
        device: where to put tensors.
        progress: whether to show a progress bar over steps.
    """

    seed: int
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    progress: bool = False
    series_data: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)

    def log(self, name: str, step: int, value: float) -> None:
        """Append ``(step, value)`` to the metric series ``name`` (stored with the run)."""
        steps, values = self.series_data.setdefault(name, ([], []))
        steps.append(int(step))
        values.append(float(value))

    def trange(self, n: int, desc: str = "") -> Iterable[int]:
        """``range(n)``, with a progress bar when ``progress`` is on."""
        if not self.progress:
            return range(n)
        from tqdm.auto import trange

        return trange(n, desc=desc or "steps", leave=False, position=1, mininterval=0.5)

    def generator(self, offset: int = 0) -> torch.Generator:
        """A CPU generator seeded from ``(seed, offset)``, independent of global state."""
        g = torch.Generator()
        g.manual_seed(int(self.seed) * 1_000_003 + int(offset))
        return g


@dataclass(frozen=True)
class RunRecord:
    """One finished seed as a verdict or figure sees it.

    ``record["key"]`` reads a measurement; ``record.series["name"]`` is ``(steps, values)``.
    """

    seed: int
    status: str
    values: dict[str, Any]
    series: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        """``values.get``."""
        return self.values.get(key, default)


@dataclass(frozen=True)
class Phenomenon:
    """A registered claim: its words, its source, and the three functions that check it.

    Attributes:
        name: stable kebab-case name used by the CLI (``icl-one-step-gd``).
        claim: the claim in one sentence.
        source: the papers it comes from.
        Config: a frozen dataclass; its defaults are the ``quick`` size.
        run: ``run(cfg, ctx) -> dict`` for one seed.
        verdict: ``verdict(cfg, runs) -> Verdict`` over all seeds.
        figure: ``figure(cfg, runs) -> matplotlib Figure`` with theory over measurement.
        presets: named overrides of the defaults, e.g. ``{"full": {"widths": (...)}}``.
        default_seeds: seeds run when the user gives none.
        prediction: the theory's prediction in words (for tables).
    """

    name: str
    claim: str
    source: str
    Config: type
    run: Callable[..., dict]
    verdict: Callable[..., Verdict]
    figure: Callable[..., Any] | None = None
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_seeds: int = 5
    prediction: str = ""
    group: str = ""

    def __post_init__(self) -> None:
        if not is_dataclass(self.Config):
            raise TypeError(f"{self.name}: Config must be a dataclass")
        valid = {f.name for f in fields(self.Config)}
        for preset, over in self.presets.items():
            bad = set(over) - valid
            if bad:
                raise TypeError(f"{self.name}: preset {preset!r} sets unknown fields {bad}")

"""`Result`: what `gdlab.run` returns for one phenomenon."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gdlab.phenomena._protocol import Phenomenon, RunRecord
from gdlab.phenomena._verdict import Verdict


@dataclass
class Result:
    """The verdict of one phenomenon at one config, with the runs behind it.

    Attributes:
        phenomenon: the registered `Phenomenon`.
        config: its resolved config.
        preset: ``quick`` or ``full``.
        verdict: holds / fails, with the numbers.
        measurements: one `RunRecord` per seed (``record["key"]``, ``record.series``).
        run_ids: the store ids of those runs.
        reused: how many runs came from the store instead of being executed.
        compute_seconds: total run time of those runs.
    """

    phenomenon: Phenomenon
    config: Any
    preset: str
    verdict: Verdict
    measurements: list[RunRecord]
    run_ids: list[int]
    reused: int = 0
    compute_seconds: float = 0.0

    @property
    def name(self) -> str:
        """The phenomenon's name."""
        return self.phenomenon.name

    def figure(self):
        """The phenomenon's figure (theory over measurement) as a matplotlib Figure.

        Drawn from the completed seeds; diverged or failed seeds have no measurements to plot.
        """
        if self.phenomenon.figure is None:
            raise ValueError(f"{self.name} has no figure")
        done = [m for m in self.measurements if m.status == "done"]
        if not done:
            raise ValueError(f"{self.name}: no seed completed, nothing to plot")
        return self.phenomenon.figure(self.config, done)

    def __repr__(self) -> str:
        return f"<Result {self.verdict.summary()}>"

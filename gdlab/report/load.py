"""Read verdicts back from the store together with what a figure needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gdlab.phenomena import catalog
from gdlab.phenomena._config import config_from_dict
from gdlab.phenomena._protocol import Phenomenon, RunRecord
from gdlab.phenomena._verdict import Verdict
from gdlab.store import Store, StoredVerdict


@dataclass
class Entry:
    """One phenomenon's latest verdict with its runs, ready to print or plot."""

    phenomenon: Phenomenon | None
    stored: StoredVerdict
    verdict: Verdict
    config: Any
    records: list[RunRecord]
    seconds: float

    def figure(self):
        """The phenomenon's figure from the completed runs (``None`` if there is none)."""
        done = [r for r in self.records if r.status == "done"]
        if self.phenomenon is None or self.phenomenon.figure is None or not done:
            return None
        return self.phenomenon.figure(self.config, done)


def load_entries(store: Store, names: list[str] | None = None) -> list[Entry]:
    """Latest verdict per phenomenon (in catalog order), optionally only ``names``."""
    order = {n: i for i, n in enumerate(catalog.names())}
    entries = []
    for sv in store.latest_verdicts():
        if names and sv.phenomenon not in names:
            continue
        entries.append(load_entry(store, sv))
    entries.sort(key=lambda e: order.get(e.stored.phenomenon, len(order)))
    return entries


def load_entry(store: Store, sv: StoredVerdict) -> Entry:
    """Rebuild an `Entry` from a stored verdict."""
    try:
        phen = catalog.get(sv.phenomenon)
    except ValueError:
        phen = None  # a phenomenon no longer in the catalog: show its numbers, no figure
    records, config, seconds = [], None, 0.0
    for rid in sv.run_ids:
        run = store.get_run(rid)
        seconds += run.seconds
        if run.status != "failed":
            records.append(RunRecord(run.seed, run.status, run.values, store.series(rid)))
        if config is None and phen is not None:
            try:
                config = config_from_dict(phen, run.config)
            except (TypeError, ValueError):
                config = None
    return Entry(phen, sv, Verdict.from_dict(sv.verdict), config, records, seconds)

"""Execute one run, in this process or a worker: config in, measurements out.

Nothing here touches the store: the driver writes outcomes, so a worker that dies loses only
its own unfinished run.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import torch

from gdlab.core.seed import fork_rng
from gdlab.errors import Diverged
from gdlab.phenomena import catalog
from gdlab.phenomena._protocol import RunContext
from gdlab.runner.plan import RunSpec


@dataclass
class RunOutcome:
    """What executing a `RunSpec` produced (picklable, sent back from workers)."""

    spec: RunSpec
    status: str  # done | diverged | failed
    values: dict[str, Any]
    series: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    error: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0


def execute(spec: RunSpec, *, progress: bool = False, threads: int | None = None) -> RunOutcome:
    """Run ``spec`` and return its outcome; never raises for errors inside the phenomenon.

    Global RNGs are seeded from the seed inside a fork (so runs are reproducible and leave
    the caller's RNG alone). `Diverged` gives status ``diverged`` with the last finite
    values; any other exception gives ``failed`` with the traceback.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    phen = catalog.get(spec.phenomenon)
    ctx = RunContext(seed=spec.seed, device=torch.device(spec.device), progress=progress)
    started = time.time()
    try:
        with fork_rng(spec.seed):
            values = phen.run(spec.config, ctx)
        if not isinstance(values, dict):
            raise TypeError(f"{spec.phenomenon}.run returned {type(values).__name__}, expected dict")
        status, error = "done", None
    except Diverged as e:
        values = {"diverged_at_step": e.step, **e.last_finite}
        status, error = "diverged", str(e)
    except Exception:  # noqa: BLE001 — recorded as a failed run, never lost
        values, status, error = {}, "failed", traceback.format_exc()
    return RunOutcome(spec, status, values, ctx.series_data, error, started, time.time())


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)
    import gdlab.phenomena  # noqa: F401 — register the catalog in the worker


def execute_in_worker(spec: RunSpec) -> RunOutcome:
    """`execute` for a process-pool worker (no progress bar)."""
    return execute(spec, progress=False)

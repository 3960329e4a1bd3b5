"""Where runs execute: inline, or in a local process pool. (Ray lives in `gdlab.runner.ray`.)

An executor maps run specs to outcomes and yields each outcome as soon as it is ready, so
the driver can store it before the next one finishes.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from collections.abc import Iterator, Sequence

from gdlab.runner.execute import RunOutcome, _worker_init, execute, execute_in_worker
from gdlab.runner.plan import RunSpec


def run_inline(specs: Sequence[RunSpec], *, progress: bool = False) -> Iterator[RunOutcome]:
    """Execute one after another in this process."""
    for spec in specs:
        yield execute(spec, progress=progress)


def run_pool(specs: Sequence[RunSpec], *, jobs: int) -> Iterator[RunOutcome]:
    """Execute in ``jobs`` spawned worker processes; yields outcomes as they complete.

    Workers use ``cores // jobs`` torch threads each so that they do not oversubscribe.
    A worker that dies (killed, out of memory) fails its run with a message; the other
    runs carry on in a fresh pool.
    """
    threads = max(1, (os.cpu_count() or 1) // jobs)
    pending = list(specs)
    while pending:
        ctx = mp.get_context("spawn")  # fork is unsafe once torch has started its thread pools
        with cf.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init,
                                    initargs=(threads,)) as pool:
            futures = {pool.submit(execute_in_worker, s): s for s in pending}
            pending = []
            broken = False
            for fut in cf.as_completed(futures):
                spec = futures[fut]
                try:
                    yield fut.result()
                except cf.process.BrokenProcessPool:
                    if not broken:
                        broken = True
                        yield RunOutcome(spec, "failed", {}, {}, "worker process died during this run")
                    else:
                        pending.append(spec)  # collateral: retry in a fresh pool
                except Exception as e:  # noqa: BLE001 — e.g. unpicklable result
                    yield RunOutcome(spec, "failed", {}, {}, f"{type(e).__name__}: {e}")

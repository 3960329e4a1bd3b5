"""Where runs execute: inline, in a local process pool, or on Ray (`gdlab.runner.ray`).

An executor maps run specs to outcomes and yields each outcome as soon as it is ready, so
the driver can store it before the next one finishes. Work is sent out in units
(`gdlab.runner.execute.units`): one seed, or the seeds of a config that trains them together.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from gdlab.errors import UserInputError
from gdlab.runner.execute import (
    RunOutcome,
    _worker_init,
    execute_unit,
    execute_unit_in_worker,
    failed,
    units,
)
from gdlab.runner.plan import RunSpec

Executor = Callable[[Sequence[RunSpec]], Iterator[RunOutcome]]
EXECUTORS = ("inline", "pool", "ray")
# A unit whose worker died is run again alone, this many more times, before it is failed.
POOL_RETRIES = 1


def run_inline(specs: Sequence[RunSpec], *, progress: bool = False) -> Iterator[RunOutcome]:
    """Execute one unit after another in this process."""
    for unit in units(specs):
        yield from execute_unit(unit, progress=progress)


def run_pool(specs: Sequence[RunSpec], *, jobs: int,
             retries: int = POOL_RETRIES) -> Iterator[RunOutcome]:
    """Execute in ``jobs`` spawned worker processes; yields outcomes as they complete.

    Workers use ``cores // jobs`` torch threads each so that they do not oversubscribe. At
    most ``jobs`` units are in flight, so when a worker dies (killed, out of memory) the
    suspects are known: they are run again one at a time in a fresh single-worker pool, up
    to ``retries`` more times, and then failed with a message; the other units carry on in a
    fresh pool. No run is lost silently.
    """
    threads = max(1, (os.cpu_count() or 1) // jobs)
    todo = deque(units(specs))
    while todo:
        suspects: list[list[RunSpec]] = []
        with _pool(jobs, threads) as pool:
            inflight: dict[cf.Future, list[RunSpec]] = {}
            while (todo or inflight) and not suspects:
                while todo and len(inflight) < jobs:
                    unit = todo.popleft()
                    inflight[pool.submit(execute_unit_in_worker, unit)] = unit
                done, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    unit = inflight.pop(fut)
                    outs = _result(fut, unit)
                    if outs is None:
                        suspects.append(unit)
                    else:
                        yield from outs
            suspects += inflight.values()  # in flight when the pool broke
        for unit in suspects:
            yield from _isolated(unit, threads, retries)


def _pool(jobs: int, threads: int) -> cf.ProcessPoolExecutor:
    ctx = mp.get_context("spawn")  # fork is unsafe once torch has started its thread pools
    return cf.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init,
                                  initargs=(threads,))


def _result(fut: cf.Future, unit: list[RunSpec]) -> list[RunOutcome] | None:
    """The unit's outcomes; ``None`` if its worker died."""
    try:
        return fut.result()
    except cf.process.BrokenProcessPool:
        return None
    except Exception as e:  # noqa: BLE001 — e.g. an unpicklable result: recorded, not lost
        return [failed(s, f"{type(e).__name__}: {e}") for s in unit]


def _isolated(unit: list[RunSpec], threads: int, retries: int) -> Iterator[RunOutcome]:
    """Run ``unit`` alone in a fresh worker, up to ``1 + retries`` times."""
    for _ in range(1 + retries):
        with _pool(1, threads) as pool:
            outs = _result(pool.submit(execute_unit_in_worker, unit), unit)
        if outs is not None:
            yield from outs
            return
    msg = (f"worker process died during this run ({1 + retries} attempts); "
           "it was killed or ran out of memory")
    yield from (failed(s, msg) for s in unit)


def executor_for(kind: str | None = None, *, jobs: int = 1, address: str | None = None,
                 progress: bool = False) -> Executor:
    """The executor called ``kind``.

    Args:
        kind: ``"inline"``, ``"pool"`` (``jobs`` processes), ``"ray"`` (a Ray cluster at
            ``address``, or a local one started for the session), or ``None``: a pool when
            ``jobs > 1`` and there is more than one run, else inline.
        jobs: worker processes of the pool; for a local Ray cluster, its CPUs when > 1.
        address: Ray cluster address (``ray://host:10001``, ``host:6379`` or ``auto``).
        progress: step progress bars (inline only).

    Raises:
        UserInputError: an unknown kind, or ``address`` without ``ray``.
    """
    if kind is not None and kind not in EXECUTORS:
        raise UserInputError(f"unknown executor {kind!r}; use one of {', '.join(EXECUTORS)}")
    if address is not None and kind != "ray":
        raise UserInputError("--address needs --executor ray")
    if kind == "ray":
        from gdlab.runner.ray import require_ray, run_ray

        require_ray()
        return lambda specs: run_ray(specs, address=address,
                                     num_cpus=jobs if jobs > 1 and address is None else None)
    if kind == "pool":
        return lambda specs: run_pool(specs, jobs=jobs)
    if kind == "inline":
        return lambda specs: run_inline(specs, progress=progress)

    def auto(specs: Sequence[RunSpec]) -> Iterator[RunOutcome]:
        if jobs > 1 and len(specs) > 1:
            return run_pool(specs, jobs=jobs)
        return run_inline(specs, progress=progress)

    return auto

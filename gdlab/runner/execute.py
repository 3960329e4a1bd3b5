"""Execute runs, in this process or a worker: config in, measurements out.

Nothing here touches the store: the driver writes outcomes, so a worker that dies loses only
its own unfinished runs.

The unit of work is a list of specs (`units`): one seed, or all pending seeds of one config
when the phenomenon trains its seeds together (its ``run`` was made by
`gdlab.train.ensemble.seeds_at_once`); `execute_unit` returns one outcome per spec either way.
"""

from __future__ import annotations

import importlib
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from gdlab.core.seed import fork_rng
from gdlab.errors import Diverged, UserInputError
from gdlab.phenomena import catalog
from gdlab.phenomena._protocol import Phenomenon, RunContext
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


def failed(spec: RunSpec, error: str) -> RunOutcome:
    """A failed outcome for ``spec`` (e.g. its worker died), timed now."""
    now = time.time()
    return RunOutcome(spec, "failed", {}, {}, error, now, now)


def phenomenon_of(spec: RunSpec) -> Phenomenon:
    """The registered phenomenon of ``spec``, importing ``spec.module`` if needed.

    In a fresh worker only `gdlab.phenomena` is registered; a phenomenon defined elsewhere is
    found by importing its module and registering the `Phenomenon` of that name it defines.
    """
    try:
        return catalog.get(spec.phenomenon)
    except UserInputError:
        if not spec.module:
            raise
    module = importlib.import_module(spec.module)
    for obj in vars(module).values():
        if isinstance(obj, Phenomenon) and obj.name == spec.phenomenon:
            return catalog.register(obj)
    return catalog.get(spec.phenomenon)


def batched(spec: RunSpec) -> bool:
    """Whether the phenomenon of ``spec`` runs several seeds in one call."""
    try:
        return hasattr(phenomenon_of(spec).run, "run_seeds")
    except Exception:  # noqa: BLE001 — an unknown phenomenon runs alone and fails there
        return False


def units(specs: Sequence[RunSpec]) -> list[list[RunSpec]]:
    """Group specs into units of work, in order of first appearance.

    Seeds of one config whose phenomenon opted in (``run.run_seeds``) form one unit; every
    other spec is a unit of its own.
    """
    groups: dict[tuple, list[RunSpec]] = {}
    for spec in specs:
        key = (spec.phenomenon, spec.config_hash) if batched(spec) else (id(spec),)
        groups.setdefault(key, []).append(spec)
    return list(groups.values())


def execute(spec: RunSpec, *, progress: bool = False, threads: int | None = None) -> RunOutcome:
    """Run ``spec`` and return its outcome; never raises for errors inside the phenomenon.

    Global RNGs are seeded from the seed inside a fork (so runs are reproducible and leave
    the caller's RNG alone). `Diverged` gives status ``diverged`` with the last finite
    values; any other exception gives ``failed`` with the traceback.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    ctx = RunContext(seed=spec.seed, device=torch.device(spec.device), progress=progress)
    started = time.time()
    try:
        phen = phenomenon_of(spec)
        with fork_rng(spec.seed):
            values = phen.run(spec.config, ctx)
        status, values, error = _checked(spec, values)
    except Diverged as e:
        status, values, error = "diverged", _diverged_values(e), str(e)
    except Exception:  # noqa: BLE001 — recorded as a failed run, never lost
        values, status, error = {}, "failed", traceback.format_exc()
    return RunOutcome(spec, status, values, ctx.series_data, error, started, time.time())


def execute_unit(specs: Sequence[RunSpec], *, progress: bool = False) -> list[RunOutcome]:
    """Execute a unit from `units`: one outcome per spec, in order."""
    if len(specs) == 1 or not batched(specs[0]):
        return [execute(s, progress=progress) for s in specs]
    return _execute_batched(list(specs), progress=progress)


def _execute_batched(specs: list[RunSpec], *, progress: bool) -> list[RunOutcome]:
    """All seeds of one config in one ``run_seeds(cfg, ctxs)`` call."""
    phen = phenomenon_of(specs[0])
    ctxs = [RunContext(seed=s.seed, device=torch.device(s.device), progress=progress and i == 0)
            for i, s in enumerate(specs)]
    started = time.time()
    try:
        with fork_rng(specs[0].seed):
            results = list(phen.run.run_seeds(specs[0].config, ctxs))
        if len(results) != len(specs):
            raise TypeError(f"{phen.name}.run_seeds returned {len(results)} results for "
                            f"{len(specs)} seeds")
        error_all = None
    except Exception as e:  # noqa: BLE001 — every seed of the call is recorded
        results, error_all = [e] * len(specs), traceback.format_exc()
    # One wall time for the call: each seed is charged an equal share, so summed run
    # times (reports, `Result.compute_seconds`) stay the true compute time.
    share = (time.time() - started) / len(specs)
    outcomes = []
    for i, (spec, ctx, res) in enumerate(zip(specs, ctxs, results, strict=True)):
        if isinstance(res, Diverged):
            status, values, error = "diverged", _diverged_values(res), str(res)
        elif isinstance(res, BaseException):
            status, values, error = "failed", {}, error_all or repr(res)
        else:
            try:
                status, values, error = _checked(spec, res)
            except TypeError:
                status, values, error = "failed", {}, traceback.format_exc()
        t0 = started + i * share
        outcomes.append(RunOutcome(spec, status, values, ctx.series_data, error, t0, t0 + share))
    return outcomes


def _checked(spec: RunSpec, values: Any) -> tuple[str, dict, None]:
    if not isinstance(values, dict):
        raise TypeError(f"{spec.phenomenon}.run returned {type(values).__name__}, expected dict")
    return "done", values, None


def _diverged_values(e: Diverged) -> dict[str, Any]:
    return {"diverged_at_step": e.step, **e.last_finite}


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)
    import gdlab.phenomena  # noqa: F401 — register the catalog in the worker


def execute_in_worker(spec: RunSpec) -> RunOutcome:
    """`execute` for a process-pool worker (no progress bar)."""
    return execute(spec, progress=False)


def execute_unit_in_worker(specs: Sequence[RunSpec]) -> list[RunOutcome]:
    """`execute_unit` for a process-pool worker (no progress bar)."""
    return execute_unit(specs, progress=False)

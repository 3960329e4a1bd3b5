"""Run phenomena end to end: plan, skip finished runs, execute, store, judge.

This is the library call behind ``gdlab run`` and `gdlab.run`.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

import gdlab
from gdlab.phenomena import catalog
from gdlab.phenomena._protocol import RunRecord
from gdlab.phenomena._verdict import Verdict
from gdlab.runner.execute import RunOutcome
from gdlab.runner.executors import executor_for
from gdlab.runner.plan import Plan, RunSpec, make_plans
from gdlab.runner.result import Result
from gdlab.store import Store

Executor = Callable[[Sequence[RunSpec]], Iterator[RunOutcome]]


def run_plans(
    plans: Sequence[Plan],
    store: Store,
    *,
    jobs: int = 1,
    force: bool = False,
    progress: bool = False,
    executor: Executor | str | None = None,
    on_result: Callable[[Result], None] | None = None,
    address: str | None = None,
) -> list[Result]:
    """Execute every run of ``plans`` not already finished in ``store``, then judge each plan.

    Finished runs (same phenomenon, config hash and seed, status done or diverged) are reused
    unless ``force``. Each outcome is written to the store as soon as it arrives, so an
    interrupted session loses at most the runs in flight. Verdicts are computed per plan once
    all its seeds are finished, and stored.

    Args:
        plans: from `make_plans` (or `gdlab.runner.sweep_plans`).
        store: where runs and verdicts go.
        jobs: worker processes for the pool (and CPUs of a local Ray instance when > 1).
        force: rerun runs that the store already has.
        progress: progress bars.
        executor: ``"inline" | "pool" | "ray"``, a callable ``specs -> iterator of outcomes``,
            or ``None`` (a pool when ``jobs > 1``, else inline).
        on_result: called with each plan's `Result` as soon as it is judged.
        address: Ray cluster address for ``executor="ray"`` (default: a local instance).
    """
    todo: list[RunSpec] = []
    done_ids: dict[tuple[str, str, int], int] = {}
    queued: set[tuple[str, str, int]] = set()
    for plan in plans:
        for spec in plan.specs():
            if spec.key in queued or spec.key in done_ids:
                continue  # the same run asked for twice (e.g. a name given twice) runs once
            prior = None if force else store.finished_run(*spec.key)
            if prior is not None:
                done_ids[spec.key] = prior.id
            else:
                todo.append(spec)
                queued.add(spec.key)
    if executor is None or isinstance(executor, str):
        executor = executor_for(executor, jobs=jobs, address=address, progress=progress)

    remaining = {p.phenomenon + p.config_hash: len([s for s in p.specs() if s.key not in done_ids])
                 for p in plans}
    by_key = {p.phenomenon + p.config_hash: p for p in plans}
    results: dict[str, Result] = {}
    failed_ids: dict[tuple[str, str, int], int] = {}

    def judge_ready(key: str) -> None:
        if remaining[key] == 0 and key not in results:
            res = _judge(by_key[key], store, done_ids, failed_ids, reused=sum(
                1 for s in by_key[key].specs() if s.key in done_ids) - _fresh[key])
            results[key] = res
            if on_result is not None:
                on_result(res)

    _fresh = {k: 0 for k in remaining}
    for key in remaining:  # plans whose runs were all finished already
        judge_ready(key)

    bar = _progress_bar(len(todo), progress)
    try:
        for out in executor(todo):
            spec = out.spec
            run_id = store.add_run(
                phenomenon=spec.phenomenon, config_hash=spec.config_hash, seed=spec.seed,
                preset=spec.preset, config=_cfg_dict(spec.config), status=out.status,
                started_at=out.started_at, finished_at=out.finished_at, device=spec.device,
                values=out.values, series=out.series, error=out.error,
                gdlab_version=gdlab.__version__, torch_version=torch.__version__,
            )
            if out.status == "failed":
                failed_ids[spec.key] = run_id
            else:
                done_ids[spec.key] = run_id
            key = spec.phenomenon + spec.config_hash
            _fresh[key] += 1
            remaining[key] -= 1
            if bar is not None:
                bar.set_postfix_str(f"{spec.phenomenon} seed {spec.seed}: {out.status}")
                bar.update(1)
            judge_ready(key)
    finally:
        if bar is not None:
            bar.close()
    return [results[p.phenomenon + p.config_hash] for p in plans]


@contextlib.contextmanager
def _opened(store: str | Store | None) -> Iterator[Store]:
    """``store`` itself, or a `Store` opened at that path (``None``: in memory) and closed after."""
    if isinstance(store, Store):
        yield store
        return
    st = Store(store if store is not None else ":memory:")
    try:
        yield st
    finally:
        st.close()


def _judge(plan: Plan, store: Store, done_ids, failed_ids, *, reused: int) -> Result:
    phen = catalog.get(plan.phenomenon)
    records, run_ids, seconds = [], [], 0.0
    for spec in plan.specs():
        rid = done_ids.get(spec.key, failed_ids.get(spec.key))
        if rid is None:
            continue
        run = store.get_run(rid)
        seconds += run.seconds
        records.append(RunRecord(spec.seed, run.status, run.values, store.series(rid)))
        run_ids.append(rid)
    complete = [r for r in records if r.status != "failed"]
    notes = [f"seed {r.seed} failed: {_last_line(store.get_run(i).error)}"
             for r, i in zip(records, run_ids, strict=True) if r.status == "failed"]
    try:
        if complete:
            verdict = phen.verdict(plan.config, complete)
            verdict = _with_failed_seeds(verdict, records, notes)
        else:
            verdict = Verdict(plan.phenomenon, "inconclusive", 0, len(records), (), (),
                              phen.prediction, notes=tuple(notes) or ("no run completed",))
    except Exception:  # noqa: BLE001 — a broken verdict is reported, not raised mid-catalog
        verdict = Verdict(plan.phenomenon, "inconclusive", 0, len(records), (), (), phen.prediction,
                          notes=("verdict raised: " + _last_line(traceback.format_exc()),))
    store.add_verdict(phenomenon=plan.phenomenon, config_hash=plan.config_hash, preset=plan.preset,
                      verdict=verdict.to_dict(), run_ids=run_ids)
    return Result(phen, plan.config, plan.preset, verdict, complete, run_ids, reused=max(reused, 0),
                  compute_seconds=seconds)


def _with_failed_seeds(verdict: Verdict, records: list[RunRecord], notes: list[str]) -> Verdict:
    """Failed runs count as seeds that do not hold."""
    n_failed = sum(r.status == "failed" for r in records)
    if not n_failed:
        return verdict
    import math

    from gdlab.phenomena._verdict import SEED_QUORUM

    n = verdict.n_seeds + n_failed
    holds = verdict.seeds_holding >= math.ceil(SEED_QUORUM * n - 1e-9) and verdict.status == "holds"
    return Verdict(verdict.phenomenon, "holds" if holds else "fails", verdict.seeds_holding, n,
                   verdict.checks, verdict.per_seed, verdict.prediction, verdict.quorum,
                   verdict.notes + tuple(notes))


def _cfg_dict(cfg: Any) -> dict:
    from gdlab.phenomena._config import config_dict

    return config_dict(cfg)


def _last_line(text: str | None) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _progress_bar(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="runs", unit="run", position=0, dynamic_ncols=True)


def run(
    name: str | list[str],
    *,
    quick: bool = True,
    full: bool = False,
    seeds: int | list[int] | None = None,
    overrides: dict[str, Any] | None = None,
    device: str = "cpu",
    store: str | Store | None = None,
    jobs: int = 1,
    force: bool = False,
    progress: bool = False,
    executor: str | None = None,
    address: str | None = None,
) -> Result | list[Result]:
    """Run a phenomenon (or ``"all"``) and return its verdict with the measurements.

    Args:
        name: a phenomenon name (``gdlab list``), a list of names, or ``"all"``.
        quick / full: the preset (``full=True`` wins).
        seeds: number of seeds (``0..N−1``) or an explicit list; default per phenomenon.
        overrides: config fields to change, e.g. ``{"steps": 1000}``.
        device: ``"cpu"`` or ``"cuda"``.
        store: a path or `Store` to record runs in (finished runs there are reused);
            ``None`` keeps everything in memory.
        jobs: worker processes (1 runs inline).
        force: rerun even if the store has finished runs for the same config and seed.
        progress: show progress bars.
        executor: ``"inline"``, ``"pool"`` or ``"ray"`` (default: a pool when ``jobs > 1``).
        address: Ray cluster address for ``executor="ray"``; ``None`` starts a local one.

    Returns:
        One `Result` for a single name; a list for ``"all"`` or a list of names.

    Example:
        >>> import gdlab
        >>> res = gdlab.run("logistic-max-margin", quick=True, seeds=1,
        ...                 overrides={"steps": 2000, "checkpoints": (10, 100, 1000)})
        >>> res.verdict.status in ("holds", "fails")
        True
    """
    preset = "full" if full else "quick"
    plans = make_plans(name, preset=preset, seeds=seeds, overrides=overrides, device=device)
    executor_for(executor, jobs=jobs, address=address)  # bad executor input fails before any run
    with _opened(store) as st:
        results = run_plans(plans, st, jobs=jobs, force=force, progress=progress,
                            executor=executor, address=address)
    single = isinstance(name, str) and name != "all"
    return results[0] if single else results

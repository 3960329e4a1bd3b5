"""Sweeps: one phenomenon over the Cartesian product of config values, times seeds.

::

    results = gdlab.runner.sweep("logistic-max-margin", {"lr": [0.1, 1.0], "n": [20, 40]},
                                 seeds=3, executor="ray")          # 4 plans, 12 runs

Every grid point is an ordinary `Plan`, so a sweep resumes like any run: points and seeds
already in the store are not redone.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from collections.abc import Callable, Sequence
from typing import Any

from gdlab.errors import UserInputError, did_you_mean
from gdlab.phenomena import catalog
from gdlab.runner.plan import Plan, make_plans
from gdlab.runner.result import Result
from gdlab.store import Store

MAX_POINTS = 10_000  # a typo such as 1000 values per key should not queue millions of runs

Grid = dict[str, "str | Sequence[Any]"]


def parse_grid(items: Sequence[str]) -> dict[str, str]:
    """CLI ``["lr=0.1,0.2", "widths=64,64;128,128"]`` -> ``{"lr": "0.1,0.2", ...}``.

    The values stay text; `sweep_plans` splits them by the field's type.
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise UserInputError(f"--grid {item!r} is not key=v1,v2,... (e.g. --grid lr=0.1,0.5)")
        if key in out:
            raise UserInputError(f"--grid key {key!r} given twice; list all its values once")
        out[key] = values.strip()
    return out


def grid_values(phen, key: str, values: str | Sequence[Any]) -> list[Any]:
    """The values of one grid key.

    A string is split on ``;`` for tuple-valued fields (``64,64;128,128`` is two tuples) and
    on ``,`` or ``;`` otherwise; each piece is parsed by the field's type later, like a
    ``--set`` value. A sequence is taken as the list of values.
    """
    fields = {f.name for f in dataclasses.fields(phen.Config)}
    if key not in fields:
        hint = did_you_mean(key, sorted(fields))
        raise UserInputError(f"unknown grid key {key!r} for {phen.name}.{hint} "
                             f"Valid keys: {', '.join(sorted(fields))}")
    if isinstance(values, str):
        tp = typing.get_type_hints(phen.Config)[key]
        is_tuple = typing.get_origin(tp) is tuple
        seps = (";",) if is_tuple else (";", ",")
        parts = [values]
        for sep in seps:
            parts = [p for chunk in parts for p in chunk.split(sep)]
        out: list[Any] = [p.strip() for p in parts if p.strip()]
    else:
        out = list(values)
    if not out:
        raise UserInputError(f"grid key {key!r} has no values")
    return out


def sweep_plans(
    name: str,
    grid: Grid,
    *,
    preset: str = "quick",
    seeds: int | list[int] | None = None,
    overrides: dict[str, Any] | None = None,
    device: str = "cpu",
) -> list[Plan]:
    """One `Plan` per grid point (points that resolve to the same config are kept once).

    Raises:
        UserInputError: an unknown key, a key both in ``grid`` and ``overrides``, a bad
            value, an empty grid, or more than `MAX_POINTS` points.
    """
    phen = catalog.get(name)
    if not grid:
        raise UserInputError("a sweep needs at least one grid key, e.g. --grid lr=0.1,0.5")
    both = set(grid) & set(overrides or {})
    if both:
        raise UserInputError(f"{', '.join(sorted(both))} given both as --set and --grid")
    axes = {k: grid_values(phen, k, v) for k, v in grid.items()}
    n_points = 1
    for vals in axes.values():
        n_points *= len(vals)
    if n_points > MAX_POINTS:
        raise UserInputError(f"the grid has {n_points} points, more than {MAX_POINTS}; "
                             "split the sweep")
    plans: dict[str, Plan] = {}
    for combo in itertools.product(*axes.values()):
        point = dict(zip(axes, combo, strict=True))
        (plan,) = make_plans(name, preset=preset, seeds=seeds,
                             overrides={**(overrides or {}), **point}, device=device)
        plans.setdefault(plan.config_hash, plan)
    return list(plans.values())


def sweep(
    name: str,
    grid: Grid,
    *,
    quick: bool = True,
    full: bool = False,
    seeds: int | list[int] | None = None,
    overrides: dict[str, Any] | None = None,
    device: str = "cpu",
    store: str | Store | None = None,
    executor: str | None = None,
    jobs: int = 1,
    address: str | None = None,
    force: bool = False,
    progress: bool = False,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run ``name`` at every point of ``grid`` over ``seeds``; one `Result` per point.

    Args:
        name: a phenomenon name.
        grid: ``{field: [values]}`` (or ``{field: "v1,v2"}`` as on the command line).
        quick / full: the preset the grid modifies (``full=True`` wins).
        seeds: number of seeds or an explicit list; default per phenomenon.
        overrides: fields fixed for every point.
        device: ``"cpu"`` or ``"cuda"``.
        store: path or `Store` (finished runs there are reused); ``None``: in memory.
        executor: ``"inline"``, ``"pool"`` or ``"ray"`` (default: pool when ``jobs > 1``).
        jobs: pool workers (CPUs of a local Ray instance when > 1).
        address: Ray cluster address; ``None`` starts a local instance.
        force: rerun runs already in the store.
        progress: progress bars.
        on_result: called with each point's `Result` when it is judged.

    Example:
        >>> import gdlab.runner
        >>> rs = gdlab.runner.sweep("logistic-max-margin", {"lr": [0.5, 1.0]}, seeds=1,
        ...                         overrides={"steps": 200, "checkpoints": (10, 100)})
        >>> [r.config.lr for r in rs]
        [0.5, 1.0]
    """
    from gdlab.runner.executors import executor_for
    from gdlab.runner.session import _opened, run_plans

    plans = sweep_plans(name, grid, preset="full" if full else "quick", seeds=seeds,
                        overrides=overrides, device=device)
    executor_for(executor, jobs=jobs, address=address)  # bad executor input fails before any run
    with _opened(store) as st:
        return run_plans(plans, st, jobs=jobs, force=force, progress=progress, executor=executor,
                         address=address, on_result=on_result)

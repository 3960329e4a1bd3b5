"""Read a store into pandas frames, for notebooks and `gdlab export`.

::

    from gdlab.store.query import runs_frame, series_frame, verdicts_frame
    runs = runs_frame("gdlab.db", phenomenon="logistic-max-margin")
    runs.groupby("config.lr")["values.final_cosine"].median()
    loss = series_frame("gdlab.db", run_ids=runs["run_id"], names=["loss"])

pandas (and pyarrow for parquet) are the ``export`` extra: ``pip install 'gdlab[export]'``.
They are imported on first use.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from gdlab.store.sqlite import Store

RUN_COLUMNS = ["run_id", "phenomenon", "preset", "config_hash", "seed", "status", "verdict",
               "seconds", "device", "finished_at", "gdlab_version", "torch_version", "error"]
"""Fixed leading columns of `runs_frame`; then ``config.<field>`` and ``values.<key>``."""


def pandas():
    """The pandas module, or an ImportError that says how to install it."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("reading a store into frames needs pandas: "
                          "pip install 'gdlab[export]'") from None
    return pd


@contextlib.contextmanager
def _opened(store: Store | str | os.PathLike) -> Iterator[Store]:
    if isinstance(store, Store):
        yield store
        return
    if not os.path.exists(store):
        from gdlab.errors import UserInputError

        raise UserInputError(f"no store at {store}")
    with Store(store) as st:
        yield st


def runs_frame(store: Store | str | os.PathLike, phenomenon: str | None = None, *,
               status: str | None = None):
    """One row per run: identity, status, the verdict of its config, config and numbers.

    Columns: `RUN_COLUMNS`, then one ``config.<field>`` per config field and one
    ``values.<key>`` per scalar measurement (nested dicts flattened with dots, e.g.
    ``values.cosine_at.1000``; lists and other non-scalars are left out: they are in
    ``gdlab show`` and the store). ``verdict`` is the status of the latest verdict computed
    from the run (empty if none was). ``error`` is the last line of a failed run's traceback.

    Args:
        store: a `Store` or a path to one.
        phenomenon: only this phenomenon.
        status: only runs with this status (``done``, ``diverged``, ``failed``).
    """
    pd = pandas()
    with _opened(store) as st:
        verdict_of = _verdict_by_run(st)
        rows = [_run_row(r, verdict_of.get(r.id, "")) for r in st.runs(phenomenon, status=status)]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=RUN_COLUMNS)
    rest = sorted(c for c in frame.columns if c not in RUN_COLUMNS)
    config = [c for c in rest if c.startswith("config.")]
    values = [c for c in rest if c.startswith("values.")]
    return frame[RUN_COLUMNS + config + values]


def series_frame(store: Store | str | os.PathLike, *, run_ids: Iterable[int] | None = None,
                 phenomenon: str | None = None, names: Iterable[str] | None = None):
    """Metric series in long form: columns ``run_id, phenomenon, seed, name, step, value``.

    Args:
        store: a `Store` or a path to one.
        run_ids: only these runs.
        phenomenon: only runs of this phenomenon.
        names: only these series (e.g. ``["loss"]``).
    """
    pd = pandas()
    q = ("SELECT s.run_id, r.phenomenon, r.seed, s.name, s.step, s.value FROM series s "
         "JOIN runs r ON r.id = s.run_id WHERE 1=1")
    args: list[Any] = []
    if run_ids is not None:
        ids = [int(i) for i in run_ids]
        q += f" AND s.run_id IN ({','.join('?' * len(ids))})" if ids else " AND 0"
        args += ids
    if phenomenon is not None:
        q, args = q + " AND r.phenomenon = ?", [*args, phenomenon]
    if names is not None:
        ns = list(names)
        q += f" AND s.name IN ({','.join('?' * len(ns))})" if ns else " AND 0"
        args += ns
    with _opened(store) as st:
        rows = st.read(q + " ORDER BY s.run_id, s.rowid", args)
    frame = pd.DataFrame(rows, columns=["run_id", "phenomenon", "seed", "name", "step", "value"])
    frame["value"] = frame["value"].astype(float)  # NULL (a non-finite value) reads as NaN
    return frame


def verdicts_frame(store: Store | str | os.PathLike, phenomenon: str | None = None, *,
                   latest: bool = False):
    """One row per verdict: ``verdict_id, phenomenon, preset, config_hash, created_at, status,
    seeds_holding, n_seeds, run_ids, prediction``, then ``check.<name>``: each check's
    median measurement over seeds.

    Args:
        store: a `Store` or a path to one.
        phenomenon: only this phenomenon.
        latest: only the most recent verdict of each phenomenon.
    """
    pd = pandas()
    with _opened(store) as st:
        svs = st.latest_verdicts() if latest else st.verdicts()
    rows = []
    for sv in svs:
        if phenomenon is not None and sv.phenomenon != phenomenon:
            continue
        v = sv.verdict
        row = {"verdict_id": sv.id, "phenomenon": sv.phenomenon, "preset": sv.preset,
               "config_hash": sv.config_hash, "created_at": sv.created_at, "status": sv.status,
               "seeds_holding": v.get("seeds_holding"), "n_seeds": v.get("n_seeds"),
               "run_ids": json.dumps(sv.run_ids), "prediction": v.get("prediction", "")}
        for c in v.get("checks", []):
            if isinstance(c, dict) and "name" in c and _scalar(c.get("median")):
                row[f"check.{c['name']}"] = c["median"]
        rows.append(row)
    return pd.DataFrame(rows)


def _verdict_by_run(st: Store) -> dict[int, str]:
    """Run id -> status of the latest verdict that used the run."""
    out: dict[int, str] = {}
    for status, run_ids in st.read("SELECT status, run_ids FROM verdicts ORDER BY id"):
        for rid in json.loads(run_ids):
            out[int(rid)] = status
    return out


def _run_row(run, verdict: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": run.id, "phenomenon": run.phenomenon, "preset": run.preset,
        "config_hash": run.config_hash, "seed": run.seed, "status": run.status,
        "verdict": verdict, "seconds": run.seconds, "device": run.device,
        "finished_at": run.finished_at, "gdlab_version": run.gdlab_version,
        "torch_version": run.torch_version, "error": _last_line(run.error),
    }
    for k, v in run.config.items():
        row[f"config.{k}"] = ",".join(map(str, v)) if isinstance(v, list) else v
    row.update({f"values.{k}": v for k, v in flatten_scalars(run.values).items()})
    return row


def flatten_scalars(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": 1, "b": {"c": 2.0}, "d": [1, 2]}`` -> ``{"a": 1, "b.c": 2.0}``.

    Numbers, booleans and strings are kept; lists are dropped; nested dicts are flattened.
    """
    out: dict[str, Any] = {}
    for k, v in values.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten_scalars(v, key + "."))
        elif _scalar(v):
            out[key] = v
    return out


def _scalar(v: Any) -> bool:
    return isinstance(v, (bool, int, float, str))


def _last_line(text: str | None) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""

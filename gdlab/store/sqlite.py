"""`Store`: every run, its config, metric series and verdict, in one SQLite file.

WAL mode lets readers and several writer processes share the file; every write is one
short ``BEGIN IMMEDIATE`` transaction with a generous busy timeout, so concurrent runners
queue instead of failing. A run is inserted whole (row and series together) when it ends.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gdlab.errors import UserInputError
from gdlab.store.schema import APP_ID, DDL, SCHEMA_VERSION

BUSY_TIMEOUT_S = 60.0  # several processes may queue on the write lock during a sweep


@dataclass(frozen=True)
class StoredRun:
    """A run as read back from the store."""

    id: int
    phenomenon: str
    config_hash: str
    seed: int
    preset: str
    config: dict[str, Any]
    status: str
    seconds: float
    device: str
    values: dict[str, Any]
    error: str | None
    finished_at: float
    gdlab_version: str = ""
    torch_version: str = ""


@dataclass(frozen=True)
class StoredVerdict:
    """A verdict row: the verdict itself as a dict, and the runs it was computed from."""

    id: int
    phenomenon: str
    config_hash: str
    preset: str
    created_at: float
    status: str
    run_ids: list[int]
    verdict: dict[str, Any]


class Store:
    """A gdlab results database.

    Args:
        path: file path, or ``":memory:"`` for a throw-away store.

    Raises:
        UserInputError: the path cannot be written, or the file is not a gdlab store, or it
            was written by a newer gdlab.
    """

    def __init__(self, path: str | os.PathLike = "gdlab.db"):
        self.path = str(path)
        if self.path != ":memory:":
            _check_writable(Path(self.path))
        try:
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._init_schema()
        except sqlite3.DatabaseError as e:
            raise UserInputError(
                f"{self.path} is not a gdlab store ({e}); pass another --store path") from None

    # -- schema ---------------------------------------------------------------------------
    def _init_schema(self) -> None:
        tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise UserInputError(
                f"{self.path} is an SQLite file but not a gdlab store; pass another --store path")
        if "meta" in tables:
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("app") != APP_ID:
                raise UserInputError(f"{self.path} is not a gdlab store (app={meta.get('app')!r})")
            version = int(meta.get("schema_version", 0))
            if version > SCHEMA_VERSION:
                raise UserInputError(
                    f"{self.path} has schema version {version}, newer than this gdlab's "
                    f"{SCHEMA_VERSION}; upgrade gdlab"
                )
            return
        with self._write() as c:
            # Statement by statement: executescript() would commit mid-transaction.
            for stmt in DDL.split(";"):
                if stmt.strip():
                    c.execute(stmt)
            c.execute("INSERT OR REPLACE INTO meta VALUES ('app', ?)", (APP_ID,))
            c.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            c.execute("INSERT OR REPLACE INTO meta VALUES ('created_at', ?)", (str(time.time()),))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        else:
            c.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- runs -----------------------------------------------------------------------------
    def add_run(
        self,
        *,
        phenomenon: str,
        config_hash: str,
        seed: int,
        preset: str,
        config: dict[str, Any],
        status: str,
        started_at: float,
        finished_at: float,
        device: str,
        values: dict[str, Any],
        series: dict[str, tuple[Sequence[int], Sequence[float]]],
        error: str | None = None,
        gdlab_version: str,
        torch_version: str,
    ) -> int:
        """Insert a finished run and its series in one transaction; returns its id."""
        with self._write() as c:
            cur = c.execute(
                "INSERT INTO runs (phenomenon, config_hash, seed, preset, config_json, status, "
                "started_at, finished_at, seconds, gdlab_version, torch_version, device, host, "
                "values_json, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (phenomenon, config_hash, int(seed), preset, json.dumps(config), status, started_at,
                 finished_at, finished_at - started_at, gdlab_version, torch_version, device,
                 socket.gethostname(), json.dumps(_jsonable(values)), error),
            )
            run_id = int(cur.lastrowid)
            rows = [
                (run_id, name, int(s), _finite_or_none(v))
                for name, (steps, vals) in series.items()
                for s, v in zip(steps, vals, strict=True)
            ]
            c.executemany("INSERT INTO series VALUES (?,?,?,?)", rows)
        return run_id

    def finished_run(self, phenomenon: str, config_hash: str, seed: int) -> StoredRun | None:
        """The latest completed (done or diverged) run for this key, if any."""
        row = self._conn.execute(
            "SELECT * FROM runs WHERE phenomenon=? AND config_hash=? AND seed=? "
            "AND status IN ('done','diverged') ORDER BY id DESC LIMIT 1",
            (phenomenon, config_hash, int(seed)),
        ).fetchone()
        return self._run(row) if row else None

    def get_run(self, run_id: int) -> StoredRun:
        """The run with this id."""
        row = self._conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        return self._run(row)

    def runs(self, phenomenon: str | None = None, *, status: str | None = None) -> list[StoredRun]:
        """All runs, optionally of one phenomenon and/or status, oldest first."""
        q, args = "SELECT * FROM runs WHERE 1=1", []
        if phenomenon:
            q, args = q + " AND phenomenon=?", [*args, phenomenon]
        if status:
            q, args = q + " AND status=?", [*args, status]
        return [self._run(r) for r in self._conn.execute(q + " ORDER BY id", args)]

    def series(self, run_id: int) -> dict[str, tuple[list[int], list[float]]]:
        """Every metric series of a run: ``{name: (steps, values)}``."""
        out: dict[str, tuple[list[int], list[float]]] = {}
        for name, step, value in self._conn.execute(
            "SELECT name, step, value FROM series WHERE run_id=? ORDER BY rowid", (run_id,)
        ):
            steps, vals = out.setdefault(name, ([], []))
            steps.append(step)
            vals.append(math.nan if value is None else value)
        return out

    def _run(self, row) -> StoredRun:
        (rid, phen, chash, seed, preset, cfg, status, _st, fin, secs, gv, tv, dev, _host, vals, err) = row
        return StoredRun(rid, phen, chash, seed, preset, json.loads(cfg), status, secs, dev,
                         json.loads(vals), err, fin, gv, tv)

    # -- verdicts -------------------------------------------------------------------------
    def add_verdict(self, *, phenomenon: str, config_hash: str, preset: str, verdict: dict,
                    run_ids: Sequence[int]) -> int:
        """Record a verdict computed from ``run_ids``; returns its id."""
        with self._write() as c:
            cur = c.execute(
                "INSERT INTO verdicts (phenomenon, config_hash, preset, created_at, status, "
                "seeds_holding, n_seeds, run_ids, verdict_json) VALUES (?,?,?,?,?,?,?,?,?)",
                (phenomenon, config_hash, preset, time.time(), verdict["status"],
                 verdict["seeds_holding"], verdict["n_seeds"], json.dumps(list(run_ids)),
                 json.dumps(_jsonable(verdict))),
            )
            return int(cur.lastrowid)

    def latest_verdict(self, phenomenon: str) -> StoredVerdict | None:
        """The most recent verdict of a phenomenon, if any."""
        row = self._conn.execute(
            "SELECT * FROM verdicts WHERE phenomenon=? ORDER BY id DESC LIMIT 1", (phenomenon,)
        ).fetchone()
        return self._verdict(row) if row else None

    def latest_verdicts(self) -> list[StoredVerdict]:
        """The most recent verdict of every phenomenon that has one."""
        rows = self._conn.execute(
            "SELECT * FROM verdicts WHERE id IN (SELECT MAX(id) FROM verdicts GROUP BY phenomenon)"
            " ORDER BY id"
        ).fetchall()
        return [self._verdict(r) for r in rows]

    def verdicts(self, phenomenon: str | None = None) -> list[StoredVerdict]:
        """Every verdict, optionally of one phenomenon, oldest first."""
        q, args = "SELECT * FROM verdicts", ()
        if phenomenon:
            q, args = q + " WHERE phenomenon=?", (phenomenon,)
        return [self._verdict(r) for r in self._conn.execute(q + " ORDER BY id", args)]

    def _verdict(self, row) -> StoredVerdict:
        vid, phen, chash, preset, created, status, _h, _n, run_ids, vjson = row
        return StoredVerdict(vid, phen, chash, preset, created, status, json.loads(run_ids),
                             json.loads(vjson))

    # -- artifacts ------------------------------------------------------------------------
    def add_artifact(self, name: str, data: bytes, *, mime: str, run_id: int | None = None,
                     verdict_id: int | None = None) -> int:
        """Attach a blob (e.g. a PNG figure) to a run or a verdict."""
        with self._write() as c:
            cur = c.execute(
                "INSERT INTO artifacts (run_id, verdict_id, name, mime, data, created_at) "
                "VALUES (?,?,?,?,?,?)", (run_id, verdict_id, name, mime, data, time.time()))
            return int(cur.lastrowid)

    def artifacts(self, *, verdict_id: int | None = None,
                  run_id: int | None = None) -> list[tuple[str, str, bytes]]:
        """``(name, mime, data)`` of the artifacts attached to a verdict or run."""
        if verdict_id is not None:
            rows = self._conn.execute("SELECT name, mime, data FROM artifacts WHERE verdict_id=?",
                                      (verdict_id,))
        else:
            rows = self._conn.execute("SELECT name, mime, data FROM artifacts WHERE run_id=?", (run_id,))
        return [(n, m, bytes(d)) for n, m, d in rows]

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a read-only query (for what the methods above do not cover).

        Raises:
            ValueError: the statement would write (SQLite's ``query_only`` refuses it).
        """
        self._conn.execute("PRAGMA query_only = ON")
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as e:
            if "readonly" in str(e):
                raise ValueError(f"Store.read runs read-only queries: {e}") from None
            raise
        finally:
            self._conn.execute("PRAGMA query_only = OFF")

    def count_runs(self, phenomenon: str | None = None) -> int:
        """Number of runs (of any status), optionally of one phenomenon."""
        q, args = "SELECT COUNT(*) FROM runs", ()
        if phenomenon:
            q, args = q + " WHERE phenomenon=?", (phenomenon,)
        return int(self._conn.execute(q, args).fetchone()[0])

    def integrity_ok(self) -> bool:
        """``PRAGMA integrity_check`` says ok."""
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _check_writable(path: Path) -> None:
    parent = path.expanduser().resolve().parent
    if path.is_dir():
        raise UserInputError(
            f"store path {path} is a directory; give a file path such as {path / 'gdlab.db'}")
    if not parent.exists():
        raise UserInputError(f"cannot create store {path}: directory {parent} does not exist")
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise UserInputError(f"store {path} is not readable and writable by you")
    elif not os.access(parent, os.W_OK):
        raise UserInputError(f"cannot create store {path}: directory {parent} is not writable")


def _finite_or_none(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _jsonable(obj: Any) -> Any:
    """Numbers, lists, dicts; tensors and NumPy values become lists/floats; NaN/inf kept as strings."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):
        return _jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return obj  # json writes NaN/Infinity, and reads them back
    return obj

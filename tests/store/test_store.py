import os
import sqlite3

import pytest

from gdlab.errors import UserInputError
from gdlab.store import SCHEMA_VERSION, Store


def _add(store, seed=0, status="done", **kw):
    return store.add_run(phenomenon="p", config_hash="h", seed=seed, preset="quick", config={"a": 1},
                         status=status, started_at=1.0, finished_at=2.5, device="cpu",
                         values={"x": 1.5, "lst": [1, 2]}, series={"loss": ([0, 1], [1.0, float("nan")])},
                         gdlab_version="0", torch_version="t", **kw)


def test_roundtrip_run_series_verdict(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as s:
        rid = _add(s)
        _add(s, seed=1, status="failed", error="boom")
        s.add_verdict(phenomenon="p", config_hash="h", preset="quick",
                      verdict={"status": "holds", "seeds_holding": 1, "n_seeds": 1}, run_ids=[rid])
    with Store(path) as s:
        run = s.finished_run("p", "h", 0)
        assert run.values == {"x": 1.5, "lst": [1, 2]} and run.seconds == 1.5
        assert s.finished_run("p", "h", 1) is None  # failed runs are redone
        steps, vals = s.series(rid)["loss"]
        assert steps == [0, 1] and vals[0] == 1.0 and vals[1] != vals[1]  # NaN kept as NaN
        assert s.latest_verdict("p").run_ids == [rid]
        assert s.integrity_ok()
        mode = s._conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        assert (s._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
                == str(SCHEMA_VERSION))


def test_not_a_database(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello, this is not sqlite" * 100)
    with pytest.raises(UserInputError, match="not a gdlab store"):
        Store(bad)


def test_foreign_sqlite_file(tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(UserInputError, match="not a gdlab store"):
        Store(other)


def test_newer_schema_rejected(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(UserInputError, match="newer"):
        Store(path)


def test_unwritable_paths(tmp_path):
    with pytest.raises(UserInputError, match="does not exist"):
        Store(tmp_path / "missing" / "s.db")
    with pytest.raises(UserInputError, match="is a directory"):
        Store(tmp_path)
    if os.geteuid() != 0:  # root can write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(UserInputError, match="not writable"):
            Store(ro / "s.db")

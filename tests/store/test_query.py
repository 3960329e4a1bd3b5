"""`gdlab.store.query`: pandas frames of runs, series and verdicts; read-only store helpers."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))
import toy_phenomenon  # noqa: E402

from gdlab.errors import UserInputError  # noqa: E402
from gdlab.runner import run  # noqa: E402
from gdlab.store import Store, runs_frame, series_frame, verdicts_frame  # noqa: E402
from gdlab.store.query import RUN_COLUMNS, flatten_scalars  # noqa: E402

pd = pytest.importorskip("pandas")


@pytest.fixture
def db(monkeypatch, tmp_path):
    toy_phenomenon.register_toys(monkeypatch)
    path = str(tmp_path / "gdlab.db")
    run("toy-gd", seeds=2, store=path, overrides={"steps": 8})
    run("toy-gd", seeds=1, store=path, overrides={"steps": 8, "lr": 0.05})
    run("toy-ensemble", seeds=2, store=path, overrides={"steps": 5})
    return path


def test_runs_frame_columns_and_values_match_the_store(db):
    df = runs_frame(db)
    assert list(df.columns[: len(RUN_COLUMNS)]) == RUN_COLUMNS
    assert len(df) == 5 and df["run_id"].is_unique
    with Store(db) as st:
        for row in df.to_dict("records"):
            r = st.get_run(row["run_id"])
            assert (row["phenomenon"], row["seed"]) == (r.phenomenon, r.seed)
            assert row["status"] == r.status
            assert row["values.final_loss"] == r.values["final_loss"]
    gd = runs_frame(db, phenomenon="toy-gd")
    assert list(gd["config.lr"]) == [0.1, 0.1, 0.05]
    assert list(gd["config.widths_extra"].fillna("")) == ["", "", ""]  # empty tuple -> ""
    assert gd["values.global_draw"].notna().all()
    assert (runs_frame(db, status="failed").columns == RUN_COLUMNS).all()


def test_series_frame_filters(db):
    df = runs_frame(db, phenomenon="toy-gd")
    first = int(df["run_id"].iloc[0])
    s = series_frame(db, run_ids=[first], names=["loss"])
    assert list(s["step"]) == list(range(9)) and set(s["name"]) == {"loss"}
    with Store(db) as st:
        assert list(s["value"]) == st.series(first)["loss"][1]
    assert set(series_frame(db, phenomenon="toy-ensemble")["phenomenon"]) == {"toy-ensemble"}
    assert series_frame(db, run_ids=[]).empty and series_frame(db, names=[]).empty


def test_verdicts_frame(db):
    all_v = verdicts_frame(db)
    assert list(all_v["phenomenon"]) == ["toy-gd", "toy-gd", "toy-ensemble"]
    latest = verdicts_frame(db, latest=True)
    assert list(latest["phenomenon"]) == ["toy-gd", "toy-ensemble"]
    assert all(math.isfinite(v) for v in latest["check.final loss / initial"])
    assert len(verdicts_frame(db, phenomenon="toy-ensemble")) == 1


def test_a_missing_store_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="no store"):
        runs_frame(tmp_path / "nope.db")


def test_flatten_scalars():
    assert flatten_scalars({"a": 1, "b": {"c": 2.0, "d": {"e": "x"}}, "f": [1, 2], "g": None,
                            "h": True}) == {"a": 1, "b.c": 2.0, "b.d.e": "x", "h": True}


def test_store_read_is_select_only_and_counts(db):
    with Store(db) as st:
        assert st.read("SELECT COUNT(*) FROM runs") == [(5,)]
        assert st.count_runs() == 5 and st.count_runs("toy-ensemble") == 2
        assert [v.phenomenon for v in st.verdicts("toy-gd")] == ["toy-gd", "toy-gd"]
        for sql in ("DELETE FROM runs", "WITH x AS (SELECT 1) DELETE FROM runs"):
            with pytest.raises(ValueError, match="read-only"):
                st.read(sql)
        assert st.count_runs() == 5

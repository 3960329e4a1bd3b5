"""``gdlab export``: files that pandas reads back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))
import toy_phenomenon  # noqa: E402

from gdlab.cli.main import main  # noqa: E402
from gdlab.runner import run  # noqa: E402

pd = pytest.importorskip("pandas")


@pytest.fixture
def store(monkeypatch, tmp_path):
    """A store with 3 done runs, 1 diverged run and 1 failed run of the toy phenomenon."""
    toy_phenomenon.register_toys(monkeypatch)
    db = str(tmp_path / "gdlab.db")
    run("toy-gd", seeds=3, store=db)
    run("toy-gd", seeds=1, store=db, overrides={"lr": 50.0})
    run("toy-gd", seeds=1, store=db, overrides={"fail": True})
    return db


def test_csv_has_one_row_per_run_with_config_and_numbers(store, tmp_path, capsys):
    out = tmp_path / "runs.csv"
    assert main(["export", "--store", store, "--format", "csv", "--out", str(out)]) == 0
    assert "5 rows (runs)" in capsys.readouterr().err
    df = pd.read_csv(out)
    assert len(df) == 5
    assert list(df["status"]) == ["done", "done", "done", "diverged", "failed"]
    assert list(df["verdict"][[0, 1, 2, 4]]) == ["holds", "holds", "holds", "inconclusive"]
    assert df.loc[3, "verdict"] in ("fails", "inconclusive")  # one diverged seed
    assert list(df["seed"]) == [0, 1, 2, 0, 0]
    assert list(df["config.lr"]) == [0.1, 0.1, 0.1, 50.0, 0.1]
    done = df[df.status == "done"]
    assert (done["values.final_loss"] < done["values.init_loss"]).all()
    assert "values.at.half" in df and "values.curve" not in df  # nested flattened, lists out
    assert df.loc[3, "values.diverged_at_step"] >= 1
    assert df.loc[4, "error"] == "RuntimeError: toy failure"


def test_parquet_round_trip_and_phenomenon_filter(store, tmp_path):
    out = tmp_path / "runs.parquet"
    assert main(["export", "--store", store, "--out", str(out), "--phenomenon", "toy-gd"]) == 0
    df = pd.read_parquet(out)
    assert len(df) == 5 and df["values.final_loss"].dtype == float
    assert main(["export", "--store", store, "--out", str(tmp_path / "none.csv"),
                 "--phenomenon", "nothing-here"]) == 0
    assert len(pd.read_csv(tmp_path / "none.csv")) == 0


def test_series_and_verdicts(store, tmp_path):
    s = tmp_path / "series.csv"
    assert main(["export", "--store", store, "--out", str(s), "--what", "series"]) == 0
    series = pd.read_csv(s)
    assert set(series.columns) == {"run_id", "phenomenon", "seed", "name", "step", "value"}
    assert (series.groupby("run_id").size() >= 2).all()
    v = tmp_path / "verdicts.parquet"
    assert main(["export", "--store", store, "--out", str(v), "--what", "verdicts"]) == 0
    verdicts = pd.read_parquet(v)
    assert list(verdicts["status"])[::2] == ["holds", "inconclusive"]
    assert list(verdicts["n_seeds"]) == [3, 1, 1]
    assert "check.final loss / initial" in verdicts


@pytest.mark.parametrize("args, message", [
    (["--out", "runs.txt"], "cannot tell the format"),
    (["--store", "missing.db", "--out", "x.csv"], "no store at missing.db"),
    (["--out", "/nonexistent-dir/x.csv"], "cannot write"),
])
def test_bad_export_input_exits_2(store, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    if "--store" not in args:
        args = ["--store", store, *args]
    assert main(["export", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_missing_pandas_is_a_clear_error(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert main(["export", "--store", store, "--out", str(tmp_path / "x.csv")]) == 2
    assert "pip install 'gdlab[export]'" in capsys.readouterr().err

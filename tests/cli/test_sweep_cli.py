"""``gdlab sweep`` and the executor options of ``gdlab run``, on the test-only toy phenomenon."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runner"))
import toy_phenomenon  # noqa: E402

from gdlab.cli.main import main  # noqa: E402
from gdlab.store import Store  # noqa: E402


@pytest.fixture
def toys(monkeypatch):
    toy_phenomenon.register_toys(monkeypatch)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "gdlab.db")


def test_sweep_prints_one_row_per_point_and_stores_every_run(toys, db, capsys):
    code = main(["sweep", "toy-gd", "--grid", "lr=0.05,0.1", "--grid", "width=4,6",
                 "--seeds", "2", "--set", "steps=10", "--store", db, "--no-progress"])
    assert code == 0
    out, err = capsys.readouterr()
    assert "4 grid points, 8 runs" in err
    lines = out.splitlines()
    assert lines[0].split() == ["lr", "width", "verdict", "seeds", "time"]
    assert [ln.split()[:3] for ln in lines[2:6]] == [
        ["0.05", "4", "holds"], ["0.05", "6", "holds"],
        ["0.1", "4", "holds"], ["0.1", "6", "holds"]]
    assert lines[-1] == "holds at 4/4 grid points"
    with Store(db) as st:
        assert st.count_runs("toy-gd") == 8


def test_sweep_strict_exit_status(toys, db, capsys):
    args = ["sweep", "toy-gd", "--grid", "lr=0.05,50", "--seeds", "1", "--store", db]
    assert main(args) == 0
    assert main([*args, "--strict"]) == 1  # lr = 50 diverges: the claim fails there


def test_sweep_with_pool_executor(toys, db):
    assert main(["sweep", "toy-gd", "--grid", "lr=0.05,0.1", "--seeds", "1", "--executor",
                 "pool", "--jobs", "2", "--store", db]) == 0
    with Store(db) as st:
        assert [r.status for r in st.runs("toy-gd")] == ["done", "done"]


@pytest.mark.parametrize("args, message", [
    (["--grid", "lrr=1,2"], "unknown grid key 'lrr'"),
    (["--grid", "lr"], "is not key=v1,v2"),
    (["--grid", "lr=0.1", "--set", "lr=0.2"], "both as --set and --grid"),
    (["--grid", "lr=0.1", "--address", "localhost:6379"], "--address needs --executor ray"),
])
def test_bad_sweep_input_exits_2_with_one_line(toys, db, capsys, args, message):
    assert main(["sweep", "toy-gd", *args, "--store", db]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in err[0]


def test_sweep_without_grid_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["sweep", "toy-gd"])
    assert e.value.code == 2


def test_run_with_executor_options(toys, db):
    assert main(["run", "toy-gd", "--seeds", "2", "--executor", "inline", "--store", db]) == 0
    assert main(["run", "toy-gd", "--seeds", "2", "--executor", "pool", "--store", db,
                 "--force"]) == 0
    with Store(db) as st:
        assert st.count_runs("toy-gd") == 4


def test_ray_executor_without_ray_says_how_to_install(toys, db, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    assert main(["run", "toy-gd", "--executor", "ray", "--store", db]) == 2
    assert "pip install 'gdlab[ray]'" in capsys.readouterr().err

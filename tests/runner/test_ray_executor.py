"""The Ray executor on a local Ray instance (skipped when Ray is not installed)."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray")

from gdlab.cli.main import main  # noqa: E402
from gdlab.runner import run, sweep  # noqa: E402
from gdlab.store import Store  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance for the module: 2 CPUs, no dashboard."""
    from gdlab.runner.ray import init

    started = init(num_cpus=2)
    yield
    if started:
        ray.shutdown()


def test_sweep_of_8_runs_on_ray_matches_inline(local_ray, toys, db, tmp_path):
    results = sweep("toy-gd", {"lr": [0.05, 0.1]}, seeds=4, store=db, executor="ray")
    assert [r.config.lr for r in results] == [0.05, 0.1]
    assert all(r.verdict.status == "holds" and r.verdict.n_seeds == 4 for r in results), \
        [r.verdict.notes for r in results]
    with Store(db) as st:
        runs = st.runs("toy-gd")
        assert len(runs) == 8 and all(r.status == "done" for r in runs)
        assert all(len(st.series(r.id)["loss"][0]) == 21 for r in runs)
    inline = sweep("toy-gd", {"lr": [0.05, 0.1]}, seeds=4, store=str(tmp_path / "inline.db"))
    for a, b in zip(results, inline, strict=True):
        for ma, mb in zip(a.measurements, b.measurements, strict=True):
            assert ma.seed == mb.seed
            assert ma["final_loss"] == pytest.approx(mb["final_loss"], rel=1e-12)
    again = sweep("toy-gd", {"lr": [0.05, 0.1]}, seeds=4, store=db, executor="ray")
    assert sum(r.reused for r in again) == 8


def test_batched_seeds_run_as_one_ray_task(local_ray, toys, db):
    res = run("toy-ensemble", seeds=3, store=db, executor="ray", overrides={"bad_seed": 2})
    assert [m.status for m in res.measurements] == ["done", "done", "diverged"]


def test_dead_worker_is_retried_then_failed_never_lost(local_ray, toys, db, tmp_path):
    marker = tmp_path / "crashed-once"
    once = run("toy-gd", seeds=1, store=db, executor="ray",
               overrides={"crash": f"once:{marker}"})
    assert marker.exists() and [m.status for m in once.measurements] == ["done"]
    always = run("toy-gd", seeds=1, store=db, executor="ray", overrides={"crash": "always"})
    assert always.verdict.status == "inconclusive"
    with Store(db) as st:
        (failed,) = st.runs("toy-gd", status="failed")
        assert "Ray task failed after 2 retries" in failed.error


def test_cli_run_and_sweep_with_ray(local_ray, toys, db, capsys):
    assert main(["run", "toy-gd", "--seeds", "2", "--executor", "ray", "--store", db]) == 0
    assert main(["sweep", "toy-gd", "--grid", "lr=0.05,0.1", "--seeds", "2",
                 "--executor", "ray", "--store", db]) == 0
    out = capsys.readouterr().out
    assert "holds at 2/2 grid points" in out
    with Store(db) as st:
        assert st.count_runs("toy-gd") == 4  # lr=0.1 seeds 0, 1 were reused from the run

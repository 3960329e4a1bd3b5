"""The runner end to end on the toy phenomena: resume, --force, failures, batched seeds."""

from __future__ import annotations

import pytest

from gdlab.errors import UserInputError
from gdlab.runner import executor_for, make_plans, run, run_plans
from gdlab.runner.execute import execute, execute_unit, units
from gdlab.store import Store


def test_finished_runs_are_reused_not_redone(toys, db):
    first = run("toy-gd", seeds=3, store=db)
    assert first.reused == 0 and first.verdict.status == "holds"
    again = run("toy-gd", seeds=3, store=db)
    assert again.reused == 3
    assert again.run_ids == first.run_ids
    with Store(db) as st:
        assert st.count_runs("toy-gd") == 3
        assert len(st.verdicts("toy-gd")) == 2


def test_partly_finished_plan_runs_only_the_missing_seeds(toys, db):
    run("toy-gd", seeds=[0, 1], store=db)
    res = run("toy-gd", seeds=3, store=db)
    assert res.reused == 2 and len(res.run_ids) == 3
    with Store(db) as st:
        assert sorted(r.seed for r in st.runs("toy-gd")) == [0, 1, 2]


def test_force_reruns(toys, db):
    first = run("toy-gd", seeds=2, store=db)
    forced = run("toy-gd", seeds=2, store=db, force=True)
    assert forced.reused == 0
    assert set(forced.run_ids).isdisjoint(first.run_ids)
    with Store(db) as st:
        assert st.count_runs("toy-gd") == 4


def test_a_different_config_is_a_different_run(toys, db):
    run("toy-gd", seeds=1, store=db)
    res = run("toy-gd", seeds=1, store=db, overrides={"lr": 0.05})
    assert res.reused == 0


def test_failed_runs_are_recorded_reported_and_retried(toys, db):
    res = run("toy-gd", seeds=2, store=db, overrides={"fail": True})
    assert res.verdict.status == "inconclusive"
    assert any("seed 0 failed: RuntimeError: toy failure" in n for n in res.verdict.notes)
    with Store(db) as st:
        runs = st.runs("toy-gd")
        assert [r.status for r in runs] == ["failed", "failed"]
        assert "RuntimeError: toy failure" in runs[0].error and "Traceback" in runs[0].error
        assert st.latest_verdict("toy-gd").status == "inconclusive"
    # A failed run is not finished: the next session tries it again.
    again = run("toy-gd", seeds=2, store=db, overrides={"fail": True})
    assert again.reused == 0
    with Store(db) as st:
        assert st.count_runs("toy-gd") == 4


def test_batched_phenomenon_runs_its_seeds_as_one_unit(toys):
    (plan,) = make_plans("toy-ensemble", seeds=3)
    (single,) = make_plans("toy-gd", seeds=2)
    groups = units(plan.specs() + single.specs())
    assert [len(u) for u in groups] == [3, 1, 1]
    together = execute_unit(plan.specs())
    assert [o.status for o in together] == ["done"] * 3
    # Each seed alone (its own ensemble of one) gives the same numbers.
    for spec, out in zip(plan.specs(), together, strict=True):
        alone = execute(spec)
        assert alone.values["final_loss"] == pytest.approx(out.values["final_loss"], rel=1e-12)
        assert len(alone.series["loss"][0]) == len(out.series["loss"][0]) == 31
    # The call's time is shared among its seeds.
    spans = [o.finished_at - o.started_at for o in together]
    assert max(spans) == pytest.approx(min(spans), rel=1e-6, abs=1e-9)


def test_batched_seeds_resume_like_any_other(toys, db):
    run("toy-ensemble", seeds=[0, 2], store=db)
    res = run("toy-ensemble", seeds=4, store=db)
    assert res.reused == 2 and res.verdict.n_seeds == 4
    with Store(db) as st:
        assert sorted(r.seed for r in st.runs("toy-ensemble")) == [0, 1, 2, 3]


def test_pool_gives_the_inline_numbers(toys, db, tmp_path):
    inline = run("toy-gd", seeds=2, store=db)
    pooled = run("toy-gd", seeds=2, store=str(tmp_path / "pool.db"), executor="pool", jobs=2)
    for a, b in zip(inline.measurements, pooled.measurements, strict=True):
        assert a.values["final_loss"] == pytest.approx(b.values["final_loss"], rel=1e-12)


def test_pool_retries_a_dead_worker_once_then_fails_it(toys, db, tmp_path):
    marker = tmp_path / "crashed-once"
    plans = (make_plans("toy-gd", seeds=1, overrides={"crash": f"once:{marker}"})
             + make_plans("toy-gd", seeds=1, overrides={"crash": "always"})
             + make_plans("toy-gd", seeds=2))
    with Store(db) as st:
        once, always, fine = run_plans(plans, st, executor="pool", jobs=2)
        assert marker.exists()
        assert [m.status for m in once.measurements] == ["done"]
        assert always.measurements == [] and always.verdict.status == "inconclusive"
        assert "worker process died" in always.verdict.notes[0]
        assert fine.verdict.status == "holds"
        failed = st.runs("toy-gd", status="failed")
        assert len(failed) == 1 and "2 attempts" in failed[0].error
        assert st.count_runs("toy-gd") == 4  # every run recorded, none lost


def test_executor_choice_errors():
    with pytest.raises(UserInputError, match="unknown executor"):
        executor_for("dask")
    with pytest.raises(UserInputError, match="--address needs --executor ray"):
        executor_for("pool", address="localhost:6379")


def test_numbered_cuda_device_checked():
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the message on a machine without CUDA")
    with pytest.raises(UserInputError, match="no CUDA device"):
        make_plans("toy-gd", device="cuda:0")


def test_a_run_asked_for_twice_runs_once(toys, db):
    a, b = run(["toy-gd", "toy-gd"], seeds=2, store=db)
    assert a.run_ids == b.run_ids and a.verdict.n_seeds == 2
    with Store(db) as st:
        assert st.count_runs("toy-gd") == 2

"""Faults: kill -9 mid-sweep, concurrent writers, divergence, bit-identical reruns."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gdlab.runner import run, sweep
from gdlab.store import Store

HERE = Path(__file__).resolve().parent
LRS = [0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09]  # a sweep of 8 runs
STEPS = 20


def python_script(tmp_path: Path, name: str, body: str) -> Path:
    """A script that can import the toy phenomena, then runs ``body``."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        import torch
        torch.set_num_threads(1)
        import toy_phenomenon
        from gdlab.phenomena import catalog
        catalog.register(toy_phenomenon.TOY)
        catalog.register(toy_phenomenon.TOY_ENSEMBLE)
        if __name__ == "__main__":
    """) + textwrap.indent(textwrap.dedent(body), "    "))
    return path


def test_kill_9_mid_sweep_loses_no_committed_run_and_rerun_resumes(toys, db, tmp_path):
    script = python_script(tmp_path, "sweep.py", f"""
        from gdlab.runner import sweep
        sweep("toy-gd", {{"lr": {LRS}}}, seeds=1, store={db!r},
              overrides={{"sleep": 0.5, "steps": {STEPS}}})
    """)
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 240
        while _count(db) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.time() < deadline, "the sweep did not commit 3 runs in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    with Store(db) as st:
        assert st.integrity_ok()
        before = {(r.config["lr"], r.seed): r for r in st.runs("toy-gd")}
        assert 3 <= len(before) < len(LRS), "kill landed after the sweep finished"
        for r in before.values():  # committed whole: row, values and every series point
            assert r.status == "done"
            assert len(st.series(r.id)["loss"][0]) == STEPS + 1
    results = sweep("toy-gd", {"lr": LRS}, seeds=1, store=db,
                    overrides={"sleep": 0.5, "steps": STEPS})
    assert sum(r.reused for r in results) == len(before)
    with Store(db) as st:
        assert st.integrity_ok()
        after = st.runs("toy-gd")
        assert len(after) == len(LRS)  # nothing redone, nothing missing
        for r in after:
            key = (r.config["lr"], r.seed)
            if key in before:
                assert r.id == before[key].id and r.finished_at == before[key].finished_at


def _count(db: str) -> int:
    if not os.path.exists(db):
        return 0
    try:
        with Store(db) as st:
            return st.count_runs()
    except Exception:  # noqa: BLE001 — the writer may be creating the schema right now
        return 0


def test_four_processes_writing_one_store_corrupt_nothing(toys, db, tmp_path):
    n_seeds, steps = 6, 30
    procs = []
    for k in range(4):
        script = python_script(tmp_path, f"writer{k}.py", f"""
            from gdlab.runner import run
            res = run("toy-gd", seeds={list(range(k * n_seeds, (k + 1) * n_seeds))},
                      store={db!r}, overrides={{"steps": {steps}}})
            assert res.verdict.n_seeds == {n_seeds}
        """)
        procs.append(subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE))
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    with Store(db) as st:
        assert st.integrity_ok()
        runs = st.runs("toy-gd")
        assert sorted(r.seed for r in runs) == list(range(4 * n_seeds))
        assert all(r.status == "done" for r in runs)
        for r in runs:
            steps_logged, values = st.series(r.id)["loss"]
            assert steps_logged == list(range(steps + 1)) and all(math.isfinite(v) for v in values)
        assert len(st.verdicts("toy-gd")) == 4


def test_diverged_run_is_recorded_with_its_last_finite_metrics(toys, db):
    res = run("toy-gd", seeds=1, store=db, overrides={"lr": 50.0})
    assert res.verdict.status != "holds"
    with Store(db) as st:
        (r,) = st.runs("toy-gd")
        assert r.status == "diverged"
        steps_logged, losses = st.series(r.id)["loss"]
        assert losses and all(math.isfinite(v) for v in losses)
        assert r.values["loss"] == losses[-1]  # the last finite loss
        assert r.values["diverged_at_step"] == steps_logged[-1] + 1
        assert "exceeded" in r.error or "became" in r.error


def test_diverged_member_of_a_batched_run_is_recorded_alone(toys, db):
    res = run("toy-ensemble", seeds=3, store=db, overrides={"bad_seed": 1})
    with Store(db) as st:
        runs = {r.seed: r for r in st.runs("toy-ensemble")}
        assert [runs[s].status for s in (0, 1, 2)] == ["done", "diverged", "done"]
        bad = runs[1]
        _, losses = st.series(bad.id)["loss"]
        assert bad.values["loss"] == losses[-1] and math.isfinite(losses[-1])
        assert bad.values["diverged_at_step"] == len(losses)
    assert res.verdict.seeds_holding == 2


@pytest.mark.parametrize("name", ["toy-gd", "toy-ensemble"])
def test_cpu_reruns_with_the_same_seed_are_bit_identical(toys, db, tmp_path, name):
    first = run(name, seeds=2, store=db)
    again = run(name, seeds=2, store=db, force=True)
    assert set(again.run_ids).isdisjoint(first.run_ids)
    # And in a fresh process (a pool worker with as many threads as this one).
    other = run(name, seeds=2, store=str(tmp_path / "other.db"), executor="pool", jobs=1)
    with Store(db) as st, Store(str(tmp_path / "other.db")) as st2:
        for i, j, k in zip(first.run_ids, again.run_ids, other.run_ids, strict=True):
            a, b, c = st.get_run(i), st.get_run(j), st2.get_run(k)
            assert a.values == b.values == c.values
            assert st.series(i) == st.series(j) == st2.series(k)

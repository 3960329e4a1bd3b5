import math

import pytest

from gdlab.phenomena import RunRecord, SeedResult, Verdict, check, seed_results


def test_check_ops_and_margins():
    assert check("a", 1.0, "<", 2.0).passed and check("a", 1.0, "<", 2.0).margin == pytest.approx(0.5)
    assert not check("a", 3.0, "<", 2.0).passed and check("a", 3.0, "<", 2.0).margin < 0
    assert check("a", 2.0, "<=", 2.0).passed and not check("a", 2.0, "<", 2.0).passed
    c = check("s", -0.5, "in", (-0.65, -0.35))
    assert c.passed and c.margin == pytest.approx(1.0)
    assert not check("s", -0.7, "in", (-0.65, -0.35)).passed
    assert not check("nan", math.nan, ">", 0.0).passed
    with pytest.raises(ValueError):
        check("x", 1.0, "~", 1.0)


def _seeds(pattern):
    return [SeedResult(i, (check("c", 1.0 if ok else 3.0, "<", 2.0),)) for i, ok in enumerate(pattern)]


def test_quorum_four_of_five():
    assert Verdict.from_seeds("p", _seeds([1, 1, 1, 1, 0]), prediction="").status == "holds"
    assert Verdict.from_seeds("p", _seeds([1, 1, 1, 0, 0]), prediction="").status == "fails"
    assert Verdict.from_seeds("p", _seeds([1, 1, 0]), prediction="").status == "fails"
    assert Verdict.from_seeds("p", _seeds([1]), prediction="").status == "holds"


def test_pooled_checks_must_pass_and_roundtrip():
    v = Verdict.from_seeds("p", _seeds([1, 1]), prediction="x",
                           pooled=[check("success rate", 0.5, ">=", 0.9)])
    assert v.status == "fails"
    back = Verdict.from_dict(v.to_dict())
    assert back == v


def test_failed_run_without_checks_is_not_holding():
    seeds = _seeds([1, 1, 1, 1]) + [SeedResult(4, (), "diverged")]
    v = Verdict.from_seeds("p", seeds, prediction="")
    assert v.seeds_holding == 4 and v.n_seeds == 5 and v.status == "holds"


def test_seed_results_checks_only_completed_runs():
    runs = [RunRecord(0, "done", {"x": 1.0}), RunRecord(1, "diverged", {}), RunRecord(2, "done", {"x": 3.0})]
    seen = []

    def checks(r):
        seen.append(r.seed)
        return [check("x", r["x"], "<", 2.0)]

    per_seed = seed_results(runs, checks)
    assert seen == [0, 2]
    assert per_seed[1] == SeedResult(1, (), "diverged")
    assert [s.seed for s in per_seed] == [0, 1, 2]
    assert per_seed[0] == SeedResult(0, (check("x", 1.0, "<", 2.0),))
    assert [s.holds for s in per_seed] == [True, False, False]

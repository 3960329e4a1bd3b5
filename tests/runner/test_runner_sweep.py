"""Sweep expansion: grid parsing, the Cartesian product, and bad grids."""

from __future__ import annotations

import pytest

from gdlab.errors import UserInputError
from gdlab.runner import sweep, sweep_plans
from gdlab.runner.sweep import MAX_POINTS, parse_grid


def test_parse_grid_keeps_text_and_rejects_bad_items():
    assert parse_grid(["lr=0.1,0.2", "widths_extra=1,2;3"]) == {"lr": "0.1,0.2",
                                                                "widths_extra": "1,2;3"}
    for bad in (["lr"], ["=1,2"], ["lr="], ["lr=1", "lr=2"]):
        with pytest.raises(UserInputError):
            parse_grid(bad)


def test_product_of_values_parsed_by_field_type(toys):
    plans = sweep_plans("toy-gd", {"lr": "0.1,0.2", "widths_extra": "1,2;3"}, seeds=2,
                        overrides={"steps": 5})
    assert [(p.config.lr, p.config.widths_extra) for p in plans] == [
        (0.1, (1, 2)), (0.1, (3,)), (0.2, (1, 2)), (0.2, (3,))]
    assert all(p.config.steps == 5 and p.seeds == (0, 1) for p in plans)
    assert len({p.config_hash for p in plans}) == 4


def test_python_values_and_duplicate_points(toys):
    plans = sweep_plans("toy-gd", {"lr": [0.1, 0.1, 0.2], "width": [4]})
    assert [(p.config.lr, p.config.width) for p in plans] == [(0.1, 4), (0.2, 4)]


@pytest.mark.parametrize("grid, overrides, match", [
    ({"lrr": "0.1"}, None, "unknown grid key 'lrr'.*Did you mean 'lr'"),
    ({"lr": "0.1"}, {"lr": "0.2"}, "both as --set and --grid"),
    ({"lr": ","}, None, "no values"),
    ({"lr": "0.1,abc"}, None, "lr expects float"),
    ({"lr": "0.1,-1"}, None, "lr must be positive"),
    ({}, None, "at least one grid key"),
])
def test_bad_grids_are_user_errors(toys, grid, overrides, match):
    with pytest.raises(UserInputError, match=match):
        sweep_plans("toy-gd", grid, overrides=overrides)


def test_too_many_points(toys):
    with pytest.raises(UserInputError, match=f"more than {MAX_POINTS}"):
        sweep_plans("toy-gd", {"lr": [0.1 + i for i in range(200)],
                               "width": list(range(1, 101))})


def test_sweep_runs_every_point_and_resumes(toys, db):
    results = sweep("toy-gd", {"lr": [0.05, 0.1]}, seeds=2, store=db, overrides={"steps": 10})
    assert [r.config.lr for r in results] == [0.05, 0.1]
    assert all(r.verdict.n_seeds == 2 and r.reused == 0 for r in results)
    again = sweep("toy-gd", {"lr": [0.05, 0.1, 0.2]}, seeds=2, store=db, overrides={"steps": 10})
    assert [r.reused for r in again] == [2, 2, 0]

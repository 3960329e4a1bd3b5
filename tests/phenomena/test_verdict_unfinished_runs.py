"""Every claim's verdict copes with runs that diverged or failed: no crash, never 'holds'."""

import pytest

import gdlab.phenomena as ph
from gdlab.phenomena._protocol import RunRecord


@pytest.mark.parametrize("name", ph.names())
def test_verdict_of_only_unfinished_runs_is_not_holds(name):
    phen = ph.get(name)
    cfg = phen.Config()
    runs = [RunRecord(0, "diverged", {"loss": float("nan"), "diverged_at_step": 3}),
            RunRecord(1, "failed", {})]
    v = phen.verdict(cfg, runs)
    assert v.status != "holds"
    assert v.n_seeds == 2 and v.seeds_holding == 0



def test_report_and_result_draw_figures_from_completed_runs_only():
    from types import SimpleNamespace

    from gdlab.report.load import Entry
    from gdlab.runner.result import Result

    phen = ph.get("icl-one-step-gd")  # its figure reads measurements of every run it is given
    runs = [RunRecord(0, "diverged", {"loss": float("nan")})]
    verdict = phen.verdict(phen.Config(), runs)
    entry = Entry(phen, SimpleNamespace(phenomenon=phen.name), verdict, phen.Config(), runs, 0.0)
    assert entry.figure() is None
    res = Result(phen, phen.Config(), "quick", verdict, runs, [1])
    with pytest.raises(ValueError, match="no seed completed"):
        res.figure()

"""neural-collapse: metrics bundle, a smoke run, config validation."""

from __future__ import annotations

import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import papyan2020_neural_collapse as mod


def test_smoke_run_and_verdict():
    cfg = mod.Config(n_train=60, width=32, depth=2, steps=60, record_every=20)
    ctx = RunContext(seed=0)
    values = mod.run(cfg, ctx)
    assert values["classes"] == 10
    assert set(values["final"]) == {"nc1", "mean_cos", "nc2", "nc3", "nc4", "error"}
    assert ctx.series_data["nc1"][0] == [0, 20, 40, 60]
    verdict = mod.verdict(cfg, [RunRecord(0, "done", values, ctx.series_data)])
    assert len(verdict.checks) == 5
    import matplotlib.pyplot as plt

    plt.close(mod.figure(cfg, [RunRecord(0, "done", values, ctx.series_data)]))


def test_never_reaching_zero_error_fails_the_tpt_checks():
    cfg = mod.Config()
    final = {"nc1": 0.1, "mean_cos": -0.11, "nc2": 0.05, "nc3": 0.1, "nc4": 0.0, "error": 0.1}
    values = {"classes": 10, "zero_error_step": None, "at_zero_error": None, "final": final,
              "final_step": 10}
    verdict = mod.verdict(cfg, [RunRecord(0, "done", values, {})])
    assert verdict.status == "fails"


@pytest.mark.parametrize("kwargs", [{"dataset": "cifar"}, {"loss": "hinge"}, {"n_train": 5},
                                    {"momentum": 1.0}, {"record_every": 0}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

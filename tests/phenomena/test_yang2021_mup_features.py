"""mup-feature-learning: a smoke run with its verdict, and config validation."""

from __future__ import annotations

import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import yang2021_mup_features as mod


def test_smoke_run_and_verdict():
    cfg = mod.Config(widths=(32, 64, 128), steps=2, inits=1, n_train=16, n_eval=8)
    ctx = RunContext(seed=0)
    values = mod.run(cfg, ctx)
    assert len(values["ntk_change"]) == 3 and all(v > 0 for v in values["mup_change"])
    # μP moves features far more than NTK at the same base lr and width.
    assert min(values["mup_change"]) > max(values["ntk_change"])
    verdict = mod.verdict(cfg, [RunRecord(0, "done", values, ctx.series_data)])
    assert verdict.n_seeds == 1 and len(verdict.checks) == 3
    fig = mod.figure(cfg, [RunRecord(0, "done", values, ctx.series_data)])
    import matplotlib.pyplot as plt

    plt.close(fig)


@pytest.mark.parametrize("kwargs", [{"widths": (64, 32, 128)}, {"widths": (32, 64)},
                                    {"steps": 0}, {"lr": 0.0}, {"inits": 0}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

"""tversky-xor: a smoke run, and that the linear baseline can never beat 3/4."""

from __future__ import annotations

import pytest

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import doumbouya2025_tversky_xor as mod


def test_smoke_run_and_verdict():
    cfg = mod.Config(steps=20, log_every=10)
    runs = [RunRecord(s, "done", mod.run(cfg, ctx := RunContext(seed=s)), ctx.series_data)
            for s in range(2)]
    v = mod.verdict(cfg, runs)
    assert v.n_seeds == 2 and len(v.checks) == 3
    for r in runs:
        assert r["linear_accuracy"] <= 0.75
        assert len(r["tversky_regions"]) == 41


@pytest.mark.parametrize("kwargs", [{"difference": "xor"}, {"lr": -1.0}, {"num_features": 0}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

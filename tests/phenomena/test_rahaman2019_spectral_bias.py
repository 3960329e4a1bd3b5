"""kernel-eigen-rates: rate fit, eigenspace grouping, time-to-fit, a smoke run, bad configs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import rahaman2019_spectral_bias as mod


def test_decay_rate_of_an_exact_geometric_sequence():
    rate, used = mod.decay_rate(3.0 * 0.9 ** np.arange(100))
    assert rate == pytest.approx(-math.log(0.9), rel=1e-10)
    assert used == int(np.ceil(math.log(mod.RATE_WINDOW_FLOOR) / math.log(0.9)))


def test_time_to_fit_and_eigenspaces():
    assert mod.time_to_fit(np.array([1.0, 0.5, 0.2, 0.1, 0.05])) == 3
    assert mod.time_to_fit(np.array([1.0, 0.5])) == 2  # never: the length
    lam = torch.tensor([10.0, 4.0, 4.0 * (1 + 1e-9), 2.0, 1.0], dtype=torch.float64)
    assert mod.eigenspaces(lam) == [[0], [1, 2], [3], [4]]


def test_smoke_run_verdict_and_figure():
    cfg = mod.Config(n=16, width=128, frequencies=(1, 3), steps=60)
    runs = [
        RunRecord(s, "done", mod.run(cfg, ctx := RunContext(seed=s)), ctx.series_data)
        for s in range(2)
    ]
    r = runs[0]
    assert len(r["time_to_fit"]) == 2 and r["groups"][0] == [0]
    assert all(p > 0 for p in r["predicted_rates"])
    v = mod.verdict(cfg, runs)
    assert v.n_seeds == 2 and len(v.checks) == 2
    assert mod.figure(cfg, runs) is not None


@pytest.mark.parametrize(
    "kw", [{"frequencies": (2, 1)}, {"frequencies": (1, 40)}, {"lr_fraction": 2.0}, {"modes": 0}]
)
def test_bad_config_raises(kw):
    with pytest.raises(ValueError):
        mod.Config(**kw)

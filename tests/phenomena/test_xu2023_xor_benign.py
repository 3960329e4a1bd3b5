"""xor-benign-overfitting: the fixed-readout net, a smoke run, config validation."""

from __future__ import annotations

import math

import pytest
import torch

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import xu2023_xor_benign as mod


def test_two_layer_net_has_small_first_layer_and_signed_readout():
    cfg = mod.Config(d=400, width=10)
    net = mod.two_layer_net(cfg, torch.Generator().manual_seed(0))
    w = net.layers[0].weight
    assert w.std().item() == pytest.approx(cfg.init_std, rel=0.1)
    a = net.layers[1].weight.reshape(-1)
    assert torch.equal(a.abs(), torch.full((10,), 1 / math.sqrt(10)))
    assert a.sum().item() == pytest.approx(0.0, abs=1e-6)


def test_accuracy_counts_zero_outputs_as_wrong():
    assert mod.accuracy(torch.tensor([1.0, -2.0, 0.0]), torch.tensor([1.0, -1.0, 1.0])) == 2 / 3


def test_smoke_run_and_verdict():
    cfg = mod.Config(n=20, d=500, width=10, steps=20, n_test=100)
    ctx = RunContext(seed=0)
    values = mod.run(cfg, ctx)
    assert values["interpolation_step"] is None or values["interpolation_step"] >= 1
    assert 0 <= values["final_test"] <= 1
    record = RunRecord(0, "done", values, ctx.series_data)
    assert len(mod.verdict(cfg, [record]).checks) == 3
    import matplotlib.pyplot as plt

    plt.close(mod.figure(cfg, [record]))


@pytest.mark.parametrize("kwargs", [{"mean_exponent": 1.0}, {"label_noise": 0.5}, {"n": 2},
                                    {"lr": 0.0}, {"test_points": 1}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

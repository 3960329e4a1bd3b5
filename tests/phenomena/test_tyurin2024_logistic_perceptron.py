"""large-step-logistic-perceptron: its helpers against the paper, and a smoke run."""

from __future__ import annotations

import pytest
import torch

from gdlab.phenomena import RunContext, RunRecord
from gdlab.phenomena import tyurin2024_logistic_perceptron as mod


def test_first_perceptron_step_is_half_the_mean_direction():
    """From θ̂₀ = 0 every margin is 0, so c_i = ½: θ̂₁ = (1/2n) Σ y_i a_i (Tyurin Thm 3.2)."""
    z = torch.randn(7, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    w1 = mod.batch_perceptron_step(z, torch.zeros(3, dtype=torch.float64))
    torch.testing.assert_close(w1, z.sum(0) / 14)


def test_worst_case_perceptron_needs_order_n_iterations():
    """Theorem 5.1: on the worst-case set the batch perceptron needs Ω(n) iterations."""
    g = torch.Generator().manual_seed(0)
    counts = [mod.iterations_to_separate_perceptron(mod.worst_case_dataset(n, 0.0, g), 10_000)
              for n in (20, 80)]
    assert counts[1] > 3 * counts[0]


def test_lr_gd_with_huge_step_is_the_perceptron():
    z = torch.randn(40, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    z[:, 0] = z[:, 0].abs() + 0.05  # separable by e_0
    cos = mod._limit_cosines(z, 1e12, 10)
    assert min(cos) > 1 - 1e-9


def test_smoke_run_and_verdict():
    cfg = mod.Config(n=60, data_margin=0.05, max_steps=300, worst_case_n=30)
    runs = [RunRecord(s, "done", mod.run(cfg, ctx := RunContext(seed=s)), ctx.series_data)
            for s in range(2)]
    verdict = mod.verdict(cfg, runs)
    assert verdict.n_seeds == 2
    assert len(verdict.checks) == 3
    assert all(v >= 1 for v in runs[0]["lr_gd_iterations"])


@pytest.mark.parametrize("kwargs", [{"gammas": (1.0, 0.1, 10.0)}, {"worst_case_jitter": 0.5},
                                    {"n": 1}])
def test_bad_config_raises(kwargs):
    with pytest.raises(ValueError):
        mod.Config(**kwargs)

"""Coordinate check: μP features move Θ(1), NTK features move ∝ n^-1/2, on fresh widths.

The widths here (88…704) are used nowhere else in gdlab, so the slopes are not tuned to them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gdlab.models import MLP, lr_scales
from gdlab.optim import adam, chain, scale_by_param, sgd
from gdlab.probes import coord_check, coord_check_figure
from gdlab.probes.coord_check import fit_slope

WIDTHS = (88, 176, 352, 704)
# μP: features move Θ(1). Finite-width corrections at these widths give |slope| ≲ 0.08; a
# parametrization whose hidden update is lazy sits at −0.5 or below.
MUP_MAX_ABS_SLOPE = 0.15
# NTK: ‖Δh‖ ∝ n^-1/2; measured −0.50 here over 6 seeds (−0.43 … −0.45 on other batches).
NTK_SLOPE = (-0.65, -0.35)
# The output's change is Θ(1) in both, but noisier: it is one coordinate, and its 1/√n
# corrections (the μP output at init is Θ(n^-1/2)) are largest at the smallest width. Over 6
# seeds its slope was −0.13 (μP) and −0.03 (NTK); lazy alternatives give −0.5 or below.
OUTPUT_MAX_ABS_SLOPE = 0.3
SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(123)
    return torch.randn(24, 6, generator=g), torch.randn(24, 1, generator=g)


def run(batch, parametrization, optimizer, lr, *, per_layer=True, steps=2):
    x, y = batch
    rule = sgd if optimizer == "sgd" else adam

    def make(width, g):
        return MLP(6, (width, width), 1, parametrization=parametrization, optimizer=optimizer,
                   generator=g)

    def tx(model):
        return chain(rule(lr), scale_by_param(lr_scales(model))) if per_layer else rule(lr)

    return coord_check(make, WIDTHS, x, y, tx=tx, steps=steps, seeds=SEEDS)


def test_fit_slope_recovers_a_power_law():
    w = np.array([10.0, 20.0, 40.0, 80.0])
    assert fit_slope(w, 3.0 * w**-0.5) == pytest.approx(-0.5, abs=1e-12)
    assert np.isnan(fit_slope(w, [1.0, np.nan, 1.0, 1.0]))
    with pytest.raises(ValueError):
        fit_slope([10.0], [1.0])


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.2), ("adam", 0.01)])
def test_mup_hidden_and_output_updates_are_width_independent(batch, optimizer, lr):
    cc = run(batch, "mup", optimizer, lr)
    slopes = cc.slopes("delta")[1:]  # steps >= 1; columns h1, h2, out
    assert np.all(np.abs(slopes[:, :2]) < MUP_MAX_ABS_SLOPE), slopes
    assert np.all(np.abs(slopes[:, 2]) < OUTPUT_MAX_ABS_SLOPE), slopes
    # Activations themselves stay Θ(1) in the hidden layers.
    assert np.all(np.abs(cc.slopes("size")[:, :2]) < MUP_MAX_ABS_SLOPE)


def test_ntk_hidden_updates_vanish_as_inverse_sqrt_width(batch):
    cc = run(batch, "ntk", "sgd", 0.5)
    hidden = cc.slopes("delta")[1:, :2]
    assert np.all((hidden > NTK_SLOPE[0]) & (hidden < NTK_SLOPE[1])), hidden
    # The output still moves Θ(1): NTK training is lazy in features, not in function.
    assert abs(cc.slope("out", 1)) < OUTPUT_MAX_ABS_SLOPE


def test_mup_without_its_per_layer_learning_rates_is_lazy(batch):
    """Negative control: μP multipliers with one global lr shrink every update with width."""
    cc = run(batch, "mup", "sgd", 0.2, per_layer=False)
    assert np.all(cc.slopes("delta")[1:, :2] < -MUP_MAX_ABS_SLOPE * 3)


def test_result_shapes_names_and_figure(batch):
    cc = run(batch, "mup", "sgd", 0.2, steps=1)
    assert cc.size.shape == (len(WIDTHS), 2, 3) and cc.layers == ("h1", "h2", "out")
    assert np.all(cc.delta[:, 0] == 0)
    fig = coord_check_figure(cc, title="μP")
    assert len(fig.axes) == 3
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_bad_arguments_raise(batch):
    x, y = batch
    with pytest.raises(ValueError, match="two widths"):
        coord_check(lambda w, g: MLP(6, (w,), 1), (8,), x, y, tx=lambda m: sgd(0.1))
    with pytest.raises(ValueError, match="hidden"):
        coord_check(lambda w, g: torch.nn.Linear(6, 1), (8, 16), x, y, tx=lambda m: sgd(0.1))

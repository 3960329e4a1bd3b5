"""Parametrizations: the μP table against TP5 Table 3 through the abc-symmetry, and the MLP."""

from __future__ import annotations

import math

import pytest
import torch

from gdlab.core import functionalize
from gdlab.models import MLP, PARAMETRIZATIONS, ScaledLinear, layer_scaling, lr_scales
from gdlab.optim import adam, apply_updates, chain, scale_by_param, sgd
from gdlab.testing import assert_close
from gdlab.train import mse, value_and_grad

# TP5 (Yang et al. 2022) Table 3, "SP form" (multiplier 1): effective init variance and
# SGD / Adam learning rates of W = multiplier·w, as powers of the hidden width n.
TP5_TABLE3 = {  # role: (init-variance power, SGD-lr power, Adam-lr power)
    "input": (0, 1, 0),
    "hidden": (-1, 0, -1),
    "output": (-2, -1, -1),
}
# Four float64 steps of two algebraically equal programs: rounding only (~1e-15), while a
# wrong lr conversion (e.g. Adam scaled by multiplier²) is off by O(1).
SYMMETRY_RTOL = 1e-9


def effective(role, n, optimizer, d=7, k=3):
    fan_in, fan_out = {"input": (d, n), "hidden": (n, n), "output": (n, k)}[role]
    s = layer_scaling("mup", role, fan_in, fan_out, optimizer=optimizer)
    var = (s.multiplier * s.init_std) ** 2
    lr = s.lr_scale * s.multiplier**2 if optimizer == "sgd" else s.lr_scale * s.multiplier
    return var, lr


@pytest.mark.parametrize("role", ["input", "hidden", "output"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mup_effective_scalings_follow_tp5_table3(role, optimizer):
    (v1, l1), (v2, l2) = effective(role, 128, optimizer), effective(role, 1024, optimizer)
    var_pow, sgd_pow, adam_pow = TP5_TABLE3[role]
    lr_pow = sgd_pow if optimizer == "sgd" else adam_pow
    assert math.log(v2 / v1, 8) == pytest.approx(var_pow, abs=1e-12)
    assert math.log(l2 / l1, 8) == pytest.approx(lr_pow, abs=1e-12)


def test_mean_field_is_mup_and_ntk_sp_have_unit_lr():
    for role, (fi, fo) in {"input": (5, 64), "hidden": (64, 64), "output": (64, 2)}.items():
        for opt in ("sgd", "adam"):
            assert layer_scaling("mean_field", role, fi, fo, optimizer=opt) == \
                layer_scaling("mup", role, fi, fo, optimizer=opt)
        assert layer_scaling("ntk", role, fi, fo).lr_scale == 1.0
        assert layer_scaling("sp", role, fi, fo, w_std=2.0).init_std == 2.0 / math.sqrt(fi)


def _sp_form_twin(model: MLP, optimizer: str):
    """The same network in SP form: multiplier 1, weights ``multiplier·w``, and learning rates
    converted by the abc-symmetry (SGD: ``lr_scale·multiplier²``, Adam: ``lr_scale·multiplier``)."""
    f, params = functionalize(model)
    twin, scales = {}, {}
    power = 2 if optimizer == "sgd" else 1
    for i, layer in enumerate(model.layers):
        for name, mult in (("weight", layer.multiplier), ("bias", layer.b_multiplier)):
            key = f"layers.{i}.{name}"
            twin[key] = mult * params[key]
            scales[key] = layer.param_lr_scales()[name] * mult**power

    def f_sp(p, x):
        h = x
        for i in range(len(model.layers)):
            h = h @ p[f"layers.{i}.weight"].T + p[f"layers.{i}.bias"]
            if i < len(model.layers) - 1:
                h = torch.tanh(h)
        return h

    return f, params, f_sp, twin, scales


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_multiplier_form_trains_exactly_like_its_sp_form(f64, optimizer):
    """The abc-symmetry behind the table: moving the multiplier into the weight and converting
    the lr as the module docstring says gives the same function at every step."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 5, generator=g), torch.randn(16, 2, generator=g)
    model = MLP(5, (40, 40), 2, parametrization="mup", optimizer=optimizer, b_std=0.7,
                activation="tanh", generator=g)
    f, p, f_sp, p_sp, sp_scales = _sp_form_twin(model, optimizer)
    # Adam with ε = 0 is exactly invariant to the gradient's scale, as the symmetry needs
    # (tanh keeps every gradient entry non-zero).
    rule = (lambda: sgd(0.05)) if optimizer == "sgd" else (lambda: adam(0.01, eps=0.0))
    tx = chain(rule(), scale_by_param(lr_scales(model)))
    tx_sp = chain(rule(), scale_by_param(sp_scales))
    s, s_sp = tx.init(p), tx_sp.init(p_sp)
    for _ in range(4):
        _, gr = value_and_grad(lambda q: mse(f(q, x), y), p)
        _, gr_sp = value_and_grad(lambda q: mse(f_sp(q, x), y), p_sp)
        u, s = tx.update(gr, s, p)
        u_sp, s_sp = tx_sp.update(gr_sp, s_sp, p_sp)
        p, p_sp = apply_updates(p, u), apply_updates(p_sp, u_sp)
    assert_close(f(p, x), f_sp(p_sp, x), rtol=SYMMETRY_RTOL, atol=1e-12)
    assert not torch.allclose(f(p, x), model(x))  # it did train


def test_lr_scales_gives_weights_and_biases_their_own_scales():
    m = MLP(4, (32, 32), 3, parametrization="mup", b_std=1.0)
    scales = lr_scales(m)
    assert set(scales) == {k for k, _ in m.named_parameters()}
    assert scales["layers.1.weight"] == 32.0 and scales["layers.1.bias"] == 32.0
    assert scales["layers.2.weight"] == 32.0 and scales["layers.2.bias"] == 1.0
    adam_scales = lr_scales(MLP(4, (64, 64), 3, parametrization="mup", optimizer="adam"))
    assert adam_scales["layers.1.weight"] == pytest.approx(1 / 8)
    assert adam_scales["layers.1.bias"] == 1.0


def test_scaled_linear_stays_backwards_compatible():
    layer = ScaledLinear(3, 2, multiplier=0.5, lr_scale=4.0)
    assert layer.b_lr_scale == 4.0 and layer.param_lr_scales() == {"weight": 4.0, "bias": 4.0}
    assert layer.multiplier == 0.5 and layer.b_multiplier == 1.0
    x = torch.randn(5, 3)
    torch.testing.assert_close(layer(x), 0.5 * x @ layer.weight.T + layer.bias)


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
def test_hidden_preactivations_are_order_one_at_init(parametrization):
    """Every parametrization keeps hidden pre-activations Θ(1) at init: variance σ_w²·E[φ²]."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(256, 20, generator=g)
    x = x / x.norm(dim=1, keepdim=True) * math.sqrt(20)  # ‖x‖² = d
    for n in (256, 1024):
        m = MLP(20, (n, n), 1, parametrization=parametrization, w_std=math.sqrt(2), generator=g)
        pre = m.layers[1](m.hidden(x)[0])
        # E[pre_1²] = σ_w²‖x‖²/d = 2; ReLU halves it, E[φ²] = 1; so E[pre_2²] = σ_w²·1 = 2.
        assert pre.pow(2).mean().item() == pytest.approx(2.0, rel=0.1)


@pytest.mark.parametrize("kwargs", [
    {"parametrization": "abc"}, {"role": "middle"}, {"optimizer": "lion"}, {"fan_in": 0},
])
def test_bad_scaling_arguments_raise(kwargs):
    args = {"parametrization": "mup", "role": "hidden", "fan_in": 8, "fan_out": 8,
            "optimizer": "sgd"} | kwargs
    with pytest.raises(ValueError):
        layer_scaling(args.pop("parametrization"), args.pop("role"), args.pop("fan_in"),
                      args.pop("fan_out"), **args)


def test_mlp_rejects_zero_width():
    with pytest.raises(ValueError):
        MLP(4, (0,), 1)

"""empirical_ntk against the dense J Jᵀ oracle, for every method, on MLPs, a CNN and attention."""

from __future__ import annotations

import copy
import logging

import pytest
import torch
from torch import nn

from gdlab.core import functionalize
from gdlab.models import MLP
from gdlab.probes import empirical_ntk
from gdlab.probes import ntk as ntk_module
from gdlab.testing import assert_close, reference

RTOL = 1e-6  # the bar: float64, relative; the methods agree to ~1e-13 in practice
METHODS = ("jacobian", "ntvp", "structured", "auto")


def dense_ntk(model: nn.Module, x1, x2=None, *, trace=False, full=None):
    """Oracle in the public layout: (n1, n2) for one output or traced, else (n1, n2, k, k).

    ``full`` reuses an already computed ``(n1, n2, k, k)`` oracle.
    """
    if full is None:
        f, p = functionalize(model)
        full = reference.ntk(f, p, x1, x2)
    k = full
    if trace:
        return torch.diagonal(k, dim1=2, dim2=3).sum(-1)
    return k[..., 0, 0] if k.shape[-1] == 1 else k


class TinyAttention(nn.Module):
    """Single-head softmax self-attention with LayerNorm, mean-pooled: (n, T, d) -> (n, 3)."""

    def __init__(self, d: int = 6):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.out = nn.Linear(d, 3)

    def forward(self, x):
        h = self.norm(x)
        att = torch.softmax(self.q(h) @ self.k(h).transpose(1, 2) / h.shape[-1] ** 0.5, dim=-1)
        return self.out((att @ self.v(h)).mean(1))


class TinyCNN(nn.Module):
    """Conv2d (same padding) -> tanh -> mean over H -> strided Conv1d -> relu -> Linear."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(2, 4, 3, padding=1)
        self.c2 = nn.Conv1d(4, 3, 2, stride=2)
        self.fc = nn.Linear(12, 2)

    def forward(self, x):  # (n, 2, 5, 8)
        h = torch.tanh(self.c1(x)).mean(2)
        return self.fc(torch.relu(self.c2(h)).flatten(1))


def _cases():
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    return {
        "mlp-sp-3out": (
            MLP(5, (7, 6), 3, activation="tanh", b_std=0.1, generator=g),
            torch.randn(9, 5, generator=g),
        ),
        "mlp-ntk-1out": (
            MLP(
                5,
                (7, 6),
                1,
                activation="relu",
                parametrization="ntk",
                w_std=1.4,
                b_std=0.3,
                out_scale=2.0,
                generator=g,
            ),
            torch.randn(9, 5, generator=g),
        ),
        "torch-linear": (
            nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2)),
            torch.randn(7, 4, generator=g),
        ),
        "cnn": (TinyCNN(), torch.randn(6, 2, 5, 8, generator=g)),
        "attention": (TinyAttention(), torch.randn(7, 4, 6, generator=g)),
    }


CASES = _cases()


def case(name: str, dtype=torch.float64):
    """A private copy of a shared case in ``dtype`` (``.to`` converts modules in place)."""
    model, x = CASES[name]
    return copy.deepcopy(model).to(dtype), x.to(dtype)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("method", METHODS)
def test_every_method_matches_dense_jjt(name, method):
    model, x = case(name)
    x2 = x[:4].flip(0) + 0.1
    f, p = functionalize(model)
    full11, full12 = reference.ntk(f, p, x), reference.ntk(f, p, x, x2)
    for trace in (False, True):
        for block in (None, 3):
            assert_close(
                empirical_ntk(model, x, method=method, trace=trace, block_size=block),
                dense_ntk(model, x, trace=trace, full=full11),
                rtol=RTOL,
            )
            assert_close(
                empirical_ntk(model, x, x2, method=method, trace=trace, block_size=block),
                dense_ntk(model, x, x2, trace=trace, full=full12),
                rtol=RTOL,
            )


def test_x2_is_x1_uses_the_symmetric_path_and_equals_the_general_one():
    model, x = case("mlp-sp-3out")
    sym = empirical_ntk(model, x, x, method="structured", block_size=3)  # `is` x1: mirrored
    gen = empirical_ntk(model, x, x.clone(), method="structured", block_size=3)
    assert_close(sym, gen, rtol=1e-12)
    assert_close(sym, sym.permute(1, 0, 3, 2), rtol=0.0)  # exactly symmetric by construction


def test_float32_agrees_with_float64():
    model, x = case("mlp-ntk-1out", torch.float32)
    k32 = empirical_ntk(model, x)
    assert k32.dtype == torch.float32
    assert_close(k32, dense_ntk(*case("mlp-ntk-1out")), rtol=1e-4, atol=1e-5)


def test_structured_never_falls_back_for_dense_nets_and_reads_scaled_multipliers():
    model, x = case("mlp-ntk-1out")
    params = {n: p for n, p in model.named_parameters()}
    plan = ntk_module.structured.make_plan(model, params, x[:2], 1)
    assert plan.rest == [] and all(layer.gram for layer in plan.layers)
    assert plan.layers[0].m == pytest.approx(1.4 / 5**0.5)  # σ_w/√fan_in of ScaledLinear
    assert plan.layers[0].mb == pytest.approx(0.3)


@pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")
def test_multihead_attention_falls_back_to_jacobians_for_unhooked_weights():
    class MHA(nn.Module):
        def __init__(self):
            super().__init__()
            self.att = nn.MultiheadAttention(4, 2, batch_first=True)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.att(x, x, x, need_weights=False)[0].mean(1))

    torch.manual_seed(1)
    model, x = MHA().double(), torch.randn(5, 3, 4, dtype=torch.float64)
    params = dict(model.named_parameters())
    plan = ntk_module.structured.make_plan(model, params, x[:2], 2)
    # out_proj is an nn.Linear whose forward MultiheadAttention never calls.
    assert "att.out_proj.weight" in plan.rest and "att.in_proj_weight" in plan.rest
    assert_close(empirical_ntk(model, x, method="structured"), dense_ntk(model, x), rtol=RTOL)


def test_gradient_check_catches_weights_used_outside_forward():
    class Tied(nn.Module):  # the readout reuses the first layer's weight matrix directly
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(3, 3)
            self.out = nn.Linear(3, 1)

        def forward(self, x):
            h = torch.tanh(self.inp(x))
            return self.out(h @ self.inp.weight)

    torch.manual_seed(2)
    model, x = Tied().double(), torch.randn(6, 3, dtype=torch.float64)
    plan = ntk_module.structured.make_plan(model, dict(model.named_parameters()), x[:2], 1)
    assert "inp.weight" in plan.rest
    assert_close(empirical_ntk(model, x, method="structured"), dense_ntk(model, x), rtol=RTOL)


def test_auto_picks_structured_for_mlps_and_logs_it(caplog):
    model, x = case("mlp-sp-3out")
    with caplog.at_level(logging.DEBUG, logger="gdlab"):
        empirical_ntk(model, x)
    assert any("picked structured" in r.getMessage() for r in caplog.records)


def test_cost_model_ranks_methods_as_the_flop_counts_say():
    model, x = case("mlp-sp-3out")
    params = dict(model.named_parameters())
    plan = ntk_module.structured.make_plan(model, params, x[:2], 3)
    p = sum(t.numel() for t in params.values())
    cost = {
        m: ntk_module.estimate_flops(m, plan, p, 1000, 1000, 3, False, True)
        for m in ("jacobian", "ntvp", "structured")
    }
    assert cost["structured"] < cost["ntvp"] < cost["jacobian"]  # k = 3 > 2: ntvp beats jacobian


@pytest.mark.parametrize(
    "bad",
    [
        dict(method="fast"),
        dict(block_size=0),
        dict(x2=torch.randn(3, 4, dtype=torch.float64)),
        dict(x2=torch.randn(3, 5)),
    ],
)
def test_bad_input_raises_value_error(bad):
    model, x = case("mlp-sp-3out")
    x2 = bad.pop("x2", None)
    with pytest.raises(ValueError):
        empirical_ntk(model, x, x2, **bad)


def test_model_without_trainable_parameters_raises():
    lin = nn.Linear(3, 1).requires_grad_(False)
    with pytest.raises(ValueError, match="requires_grad"):
        empirical_ntk(lin, torch.randn(4, 3))


def test_frozen_parameters_are_left_out():
    lin = nn.Linear(3, 1).double()
    lin.bias.requires_grad_(False)
    x = torch.randn(4, 3, dtype=torch.float64)
    for method in METHODS:
        assert_close(empirical_ntk(lin, x, method=method), x @ x.T, rtol=1e-12)


@pytest.mark.cuda
def test_cuda_matches_cpu():
    model, x = case("mlp-sp-3out")
    k_cpu = empirical_ntk(model, x)
    k_gpu = empirical_ntk(model.cuda(), x.cuda())
    assert k_gpu.device.type == "cuda"
    assert_close(k_gpu.cpu(), k_cpu, rtol=1e-10)

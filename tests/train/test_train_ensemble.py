"""Batched ensembles against the single-model loop and per-member autograd (float64)."""

from __future__ import annotations

import math

import pytest
import torch

from gdlab import optim
from gdlab.core import functionalize, generator, stack
from gdlab.errors import Diverged
from gdlab.models import MLP
from gdlab.testing import TOL, assert_close
from gdlab.train import logistic, mse, train
from gdlab.train.ensemble import (
    member_scale,
    mlp_objective,
    seeds_at_once,
    stacked_mlp,
    train_ensemble,
    vmap_objective,
)

TOL64 = TOL[torch.float64]


def members(m=4, d=5, widths=(7, 6), out=2, **kw):
    nets = [MLP(d, widths, out, generator=generator(s), **kw).double() for s in range(m)]
    return nets, stack([functionalize(n)[1] for n in nets])


def reference(net, params, x, y, loss=mse):
    """Per-member loss and gradient by plain autograd on one model at a time."""
    f, _ = functionalize(net)
    m = next(iter(params.values())).shape[0]
    losses, grads = [], []
    for i in range(m):
        p = {k: v[i].clone().requires_grad_(True) for k, v in params.items()}
        xi, yi = (x, y) if x.dim() == 2 else (x[i], y[i])
        loss_i = loss(f(p, xi), yi)
        losses.append(loss_i.detach())
        grads.append(dict(zip(p, torch.autograd.grad(loss_i, list(p.values())), strict=True)))
    return torch.stack(losses), stack(grads)


def data(m=4, n=9, d=5, out=2, per_member=False):
    g = generator(7)
    shape = (m, n) if per_member else (n,)
    return (torch.randn(*shape, d, generator=g, dtype=torch.float64),
            torch.randn(*shape, out, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "identity", "erf", "sin",
                                        "softplus", "sigmoid"])
@pytest.mark.parametrize("parametrization", ["sp", "ntk", "mup", "mean_field"])
def test_mlp_objective_matches_autograd(activation, parametrization):
    nets, params = members(activation=activation, parametrization=parametrization, b_std=0.5,
                           out_scale=1.5)
    x, y = data()
    losses, grads = mlp_objective(nets[0], mse, (x, y))(params)
    ref_l, ref_g = reference(nets[0], params, x, y)
    assert_close(losses, ref_l, **TOL64)
    assert set(grads) == set(params)
    for k in params:
        assert_close(grads[k], ref_g[k], **TOL64)


@pytest.mark.parametrize("per_member", [False, True])
@pytest.mark.parametrize("chunk", [None, 1, 3])
def test_mlp_objective_data_layouts_and_chunks(per_member, chunk):
    nets, params = members(m=5, b_std=0.3)
    x, y = data(m=5, per_member=per_member)
    losses, grads = mlp_objective(nets[0], mse, chunk=chunk)(params, (x, y))
    ref_l, ref_g = reference(nets[0], params, x, y)
    assert_close(losses, ref_l, **TOL64)
    for k in params:
        assert_close(grads[k], ref_g[k], **TOL64)


def test_mlp_objective_linear_model_without_bias_and_other_loss():
    nets, params = members(widths=(), out=1, bias=False, parametrization="ntk")
    x, _ = data(out=1)
    y = torch.sign(torch.randn(9, generator=generator(3), dtype=torch.float64))
    losses, grads = mlp_objective(nets[0], logistic, (x, y))(params)
    ref_l, ref_g = reference(nets[0], params, x, y, loss=logistic)
    assert_close(losses, ref_l, **TOL64)
    assert_close(grads["layers.0.weight"], ref_g["layers.0.weight"], **TOL64)


def test_stacked_mlp_forward_matches_members():
    nets, params = members(b_std=0.2, out_scale=0.5)
    x, _ = data()
    out = stacked_mlp(nets[0])(params, x)
    for i, net in enumerate(nets):
        assert_close(out[i], net(x), **TOL64)


def test_vmap_objective_matches_autograd():
    nets, params = members()
    f, _ = functionalize(nets[0])
    x, y = data()
    losses, grads = vmap_objective(lambda p: mse(f(p, x), y))(params)
    ref_l, ref_g = reference(nets[0], params, x, y)
    assert_close(losses, ref_l, **TOL64)
    for k in params:
        assert_close(grads[k], ref_g[k], **TOL64)


def test_mlp_objective_rejects_other_models():
    with pytest.raises(TypeError, match="vmap_objective"):
        mlp_objective(torch.nn.Linear(2, 1), mse)


def test_train_ensemble_equals_single_loop_per_member():
    nets, params = members(b_std=0.3)
    x, y = data()
    f, _ = functionalize(nets[0])
    tx = optim.sgd(0.05, momentum=0.9)
    probe = (5, lambda step, p: {"w_norm": p["layers.0.weight"].flatten(1).norm(dim=1)})
    ens = train_ensemble(mlp_objective(nets[0], mse, (x, y)), params, tx, 30, probes=[probe])
    for i in range(4):
        p_i = {k: v[i] for k, v in params.items()}
        single = train(lambda p: mse(f(p, x), y), p_i, tx, 30,
                       probes=[(5, lambda step, p: {"w_norm": p["layers.0.weight"].norm()})])
        got = ens.member(i)
        assert (got.status, got.steps) == (single.status, single.steps) == ("ok", 30)
        assert_close(torch.tensor(got.losses), torch.tensor(single.losses), **TOL64)
        assert [s for s, _ in got.probes["w_norm"]] == [s for s, _ in single.probes["w_norm"]]
        assert_close(torch.tensor(got.probe_series("w_norm")[1]),
                     torch.tensor(single.probe_series("w_norm")[1]), **TOL64)
        for k in p_i:
            assert_close(got.params[k], single.params[k], **TOL64)


def test_diverged_member_is_frozen_and_others_continue():
    nets, params = members(b_std=0.3)
    x, y = data()
    f, _ = functionalize(nets[0])
    lrs = [0.05, 1e5, 0.05, 0.02]
    tx = optim.chain(optim.sgd(1.0), member_scale(lrs))
    logs = [[] for _ in lrs]
    ens = train_ensemble(mlp_objective(nets[0], mse, (x, y)), params, tx, 25,
                         log=[lambda n, s, v, i=i: logs[i].append((n, s, v)) for i in range(4)])
    assert ens.status == ["ok", "diverged", "ok", "ok"]
    for i, lr in enumerate(lrs):
        p_i = {k: v[i] for k, v in params.items()}
        single = train(lambda p: mse(f(p, x), y), p_i, optim.sgd(lr), 25)
        got = ens.member(i)
        assert (got.status, got.steps) == (single.status, single.steps)
        assert got.reason == single.reason or got.reason.split()[0] == single.reason.split()[0]
        assert_close(torch.tensor(got.losses), torch.tensor(single.losses), **TOL64)
        for k in p_i:  # the diverged member keeps the parameters it diverged at
            assert_close(got.params[k], single.params[k], **TOL64)
    # The diverged member logged only its finite losses, and nothing after it stopped.
    steps_logged = [s for n, s, _ in logs[1] if n == "loss"]
    assert steps_logged == list(range(ens.steps[1]))
    assert all(math.isfinite(v) for _, _, v in logs[1])
    assert [s for n, s, _ in logs[0] if n == "loss"] == list(range(26))


def test_all_members_diverging_ends_the_run():
    nets, params = members(m=2)
    x, y = data(m=2)
    ens = train_ensemble(mlp_objective(nets[0], mse, (x, y)), params, optim.sgd(1e6), 50)
    assert ens.status == ["diverged", "diverged"]
    assert max(ens.steps) < 50


def test_stop_finishes_members_with_status_ok():
    nets, params = members()
    x, y = data()
    target = 0.5
    ens = train_ensemble(mlp_objective(nets[0], mse, (x, y)), params, optim.sgd(0.1), 400,
                         stop=lambda step, losses: losses < target)
    for i in range(4):
        m = ens.member(i)
        assert m.status == "ok"
        if m.steps < 400:
            assert m.losses[-1] < target and all(v >= target for v in m.losses[:-1])


def test_minibatches_and_bad_input():
    nets, params = members()
    x, y = data()
    batches = [(x[:5], y[:5]), (x[5:], y[5:])]
    ens = train_ensemble(mlp_objective(nets[0], mse), params, optim.sgd(0.05), 6, batches=batches)
    assert ens.status == ["ok"] * 4 and all(len(lo) == 6 for lo in ens.losses)
    with pytest.raises(ValueError, match="stacked"):
        train_ensemble(mlp_objective(nets[0], mse, (x, y)),
                       {"a": torch.zeros(3), "b": torch.zeros(2)}, optim.sgd(0.1), 1)
    with pytest.raises(ValueError, match="loggers"):
        train_ensemble(mlp_objective(nets[0], mse, (x, y)), params, optim.sgd(0.1), 1, log=[print])


def test_seeds_at_once_makes_a_one_seed_run():
    calls = []

    def run_seeds(cfg, ctxs):
        calls.append(len(ctxs))
        return [{"seed": c} if c >= 0 else Diverged("boom", step=3, last_finite={"loss": 1.0})
                for c in ctxs]

    run = seeds_at_once(run_seeds)
    assert run.run_seeds is run_seeds and run.__module__ == __name__
    assert run(None, 5) == {"seed": 5} and calls == [1]
    with pytest.raises(Diverged):
        run(None, -1)


@pytest.mark.cuda
def test_ensemble_on_cuda_matches_cpu():
    nets, params = members(b_std=0.3)
    x, y = data()
    cpu = train_ensemble(mlp_objective(nets[0], mse, (x, y)), params, optim.sgd(0.05), 20)
    dev = torch.device("cuda")
    gpu = train_ensemble(mlp_objective(nets[0], mse, (x.to(dev), y.to(dev))),
                         {k: v.to(dev) for k, v in params.items()}, optim.sgd(0.05), 20)
    assert gpu.status == cpu.status
    for k in params:
        assert gpu.params[k].device.type == "cuda"
        assert_close(gpu.params[k].cpu(), cpu.params[k], rtol=1e-8, atol=1e-10)

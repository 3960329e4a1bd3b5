"""Pure rules and the adapter against torch.optim, bit for bit in float64."""

import pytest
import torch

from gdlab import optim

CASES = [
    ("sgd", torch.optim.SGD, {"lr": 0.1}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "weight_decay": 0.01}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.02}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.02}),
    ("adam", torch.optim.Adam, {"lr": 0.01}),
    ("adam", torch.optim.Adam,
     {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("adamw", torch.optim.AdamW, {"lr": 0.01}),
    ("adamw", torch.optim.AdamW, {"lr": 0.02, "betas": (0.85, 0.995), "weight_decay": 0.3}),
    ("adagrad", torch.optim.Adagrad, {}),
    ("adagrad", torch.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.05}),
    ("adagrad", torch.optim.Adagrad,
     {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.3,
      "eps": 1e-6}),
]

MUON_CASES = [
    {},
    {"lr": 0.02, "weight_decay": 0.0},
    {"lr": 0.05, "weight_decay": 0.01, "momentum": 0.9, "nesterov": False, "ns_steps": 3},
    {"lr": 0.03, "adjust_lr_fn": "match_rms_adamw", "ns_coefficients": (3.0, -3.2, 1.2)},
]


def _problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(6, 4, generator=g, dtype=torch.float64)
    b = torch.randn(4, generator=g, dtype=torch.float64)
    x = torch.randn(16, 6, generator=g, dtype=torch.float64)
    y = torch.randn(16, 4, generator=g, dtype=torch.float64)

    def loss(p):
        return ((torch.tanh(x @ p["w"] + p["b"]) - y) ** 2).mean()

    return {"w": w, "b": b}, loss


@pytest.mark.parametrize("name,ref_cls,hyper", CASES)
def test_pure_rule_matches_torch_optim_bitwise(name, ref_cls, hyper):
    params, loss = _problem()
    ref = [torch.nn.Parameter(params["w"].clone()), torch.nn.Parameter(params["b"].clone())]
    ref_opt = ref_cls(ref, foreach=False, **hyper)
    tx = optim.get_optimizer(name).factory(**hyper)
    state = tx.init(params)
    for _ in range(7):
        ref_opt.zero_grad()
        loss({"w": ref[0], "b": ref[1]}).backward()
        ref_opt.step()
        grads = torch.func.grad(loss)(params)
        updates, state = tx.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    assert torch.equal(params["w"], ref[0].detach()), (params["w"] - ref[0]).abs().max()
    assert torch.equal(params["b"], ref[1].detach())


@pytest.mark.parametrize("name,ref_cls,hyper", CASES)
def test_adapter_matches_torch_optim_and_round_trips(name, ref_cls, hyper):
    params, loss = _problem(1)
    ref = [torch.nn.Parameter(params["w"].clone()), torch.nn.Parameter(params["b"].clone())]
    mine = [torch.nn.Parameter(params["w"].clone()), torch.nn.Parameter(params["b"].clone())]
    ref_opt = ref_cls(ref, foreach=False, **hyper)
    opt = optim.torch_optimizer(name, mine, **hyper)

    def step(o, ps):
        o.zero_grad()
        loss({"w": ps[0], "b": ps[1]}).backward()
        o.step()

    for _ in range(3):
        step(ref_opt, ref)
        step(opt, mine)
    saved = opt.state_dict()
    clone = [torch.nn.Parameter(p.detach().clone()) for p in mine]
    opt2 = optim.torch_optimizer(name, clone, **hyper)
    opt2.load_state_dict(saved)
    for _ in range(4):
        step(ref_opt, ref)
        step(opt, mine)
        step(opt2, clone)
    for a, b, c in zip(mine, ref, clone, strict=True):
        assert torch.equal(a, b)
        assert torch.equal(a, c)


def test_rules_run_unchanged_on_stacked_ensembles():
    """An elementwise rule applied to stacked params equals applying it member by member."""
    params, loss = _problem()
    members = [{k: v + 0.1 * i for k, v in params.items()} for i in range(3)]
    tx = optim.adam(0.01)
    stacked = {k: torch.stack([m[k] for m in members]) for k in params}
    state_s = tx.init(stacked)
    states = [tx.init(m) for m in members]
    for _ in range(3):
        grads_s = torch.func.vmap(torch.func.grad(loss))(stacked)
        upd, state_s = tx.update(grads_s, state_s, stacked)
        stacked = optim.apply_updates(stacked, upd)
        for i, m in enumerate(members):
            u, states[i] = tx.update(torch.func.grad(loss)(m), states[i], m)
            members[i] = optim.apply_updates(m, u)
    for i, m in enumerate(members):
        torch.testing.assert_close(stacked["w"][i], m["w"], rtol=1e-13, atol=1e-15)


def test_unknown_optimizer_suggests_name():
    from gdlab.errors import UserInputError

    with pytest.raises(UserInputError, match="adam"):
        optim.get_optimizer("adma")


def _matrix_problem(seed=0):
    """Two matrix leaves, one tall and one wide (Muon takes matrices only)."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(8, 3, generator=g, dtype=torch.float64)
    b = torch.randn(3, 5, generator=g, dtype=torch.float64)
    x = torch.randn(10, 5, generator=g, dtype=torch.float64)
    y = torch.randn(10, 8, generator=g, dtype=torch.float64)

    def loss(p):
        return ((torch.tanh(x @ p["b"].T) @ p["a"].T - y) ** 2).mean()

    return {"a": a, "b": b}, loss


@pytest.mark.parametrize("hyper", MUON_CASES)
def test_muon_matches_torch_optim_bitwise(hyper):
    params, loss = _matrix_problem()
    ref = [torch.nn.Parameter(params["a"].clone()), torch.nn.Parameter(params["b"].clone())]
    ref_opt = torch.optim.Muon(ref, **hyper)
    mine = [torch.nn.Parameter(params["a"].clone()), torch.nn.Parameter(params["b"].clone())]
    opt = optim.torch_optimizer("muon", mine, **hyper)
    tx = optim.muon(**hyper)
    state = tx.init(params)
    for _ in range(6):
        for o, ps in ((ref_opt, ref), (opt, mine)):
            o.zero_grad()
            loss({"a": ps[0], "b": ps[1]}).backward()
            o.step()
        updates, state = tx.update(torch.func.grad(loss)(params), state, params)
        params = optim.apply_updates(params, updates)
    for key, r, m in zip(("a", "b"), ref, mine, strict=True):
        assert torch.equal(params[key], r.detach()), (params[key] - r).abs().max()
        assert torch.equal(m.detach(), r.detach())


def test_newton_schulz_matches_torch_muon_kernel_bitwise():
    from torch.optim._muon import _zeropower_via_newtonschulz

    g = torch.Generator().manual_seed(3)
    for shape in [(7, 4), (4, 7), (5, 5)]:
        x = torch.randn(*shape, generator=g, dtype=torch.float64)
        ref = _zeropower_via_newtonschulz(x, optim._orthogonal.MUON_COEFFICIENTS, 5, 1e-7)
        assert torch.equal(optim.newton_schulz(x), ref.to(torch.float64))

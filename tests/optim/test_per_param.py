"""scale_by_param: per-parameter learning rates equal torch.optim parameter groups."""

from __future__ import annotations

import pytest
import torch

from gdlab.optim import adam, adamw, apply_updates, chain, scale_by_param, sgd

SCALES = {"a": 4.0, "b": 0.25, "c": 3.0}
# float64, a few steps: the two programs round differently only in the last bits.
RTOL = 1e-12


def problem():
    g = torch.Generator().manual_seed(0)
    params = {k: torch.randn(3, 2, generator=g, dtype=torch.float64) for k in SCALES}
    target = {k: torch.randn(3, 2, generator=g, dtype=torch.float64) for k in SCALES}

    def grads(p):
        # ∇ of Σ_k ‖p_k − t_k‖⁴/4 + a coupling term, so the steps are not all alike.
        coupling = sum(p[k].sum() for k in p)
        return {k: (p[k] - target[k]) * (p[k] - target[k]).pow(2).sum() + coupling
                for k in p}

    return params, grads


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "adam", "adamw"])
def test_matches_torch_optim_param_groups(name):
    lr = 0.01
    ours_rule, torch_cls, hyper = {
        "sgd": (lambda: sgd(lr), torch.optim.SGD, {}),
        "sgd_momentum": (lambda: sgd(lr, momentum=0.9), torch.optim.SGD, {"momentum": 0.9}),
        "adam": (lambda: adam(lr), torch.optim.Adam, {}),
        "adamw": (lambda: adamw(lr, weight_decay=0.1), torch.optim.AdamW, {"weight_decay": 0.1}),
    }[name]
    params, grads = problem()
    tx = chain(ours_rule(), scale_by_param(SCALES))
    state = tx.init(params)
    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    opt = torch_cls([{"params": [leaves[k]], "lr": lr * s} for k, s in SCALES.items()], **hyper)
    p = params
    for _ in range(5):
        g = grads(p)
        u, state = tx.update(g, state, p)
        p = apply_updates(p, u)
        tg = grads({k: v.detach() for k, v in leaves.items()})
        for k, v in leaves.items():
            v.grad = tg[k]
        opt.step()
    for k in SCALES:
        torch.testing.assert_close(p[k], leaves[k].detach(), rtol=RTOL, atol=1e-14)


def test_missing_scale_fails_at_init_unless_defaulted():
    p = {"a": torch.ones(2), "z": torch.ones(2)}
    with pytest.raises(ValueError, match="'z'"):
        scale_by_param({"a": 2.0}).init(p)
    tx = chain(sgd(1.0), scale_by_param({"a": 2.0}, default=1.0))
    u, _ = tx.update({"a": torch.ones(2), "z": torch.ones(2)}, tx.init(p), p)
    new = apply_updates(p, u)
    assert new["a"].tolist() == [-1.0, -1.0] and new["z"].tolist() == [0.0, 0.0]


def test_direct_call_on_lazy_updates_scales_the_whole_step():
    p = {"a": torch.ones(2, dtype=torch.float64)}
    inner = sgd(0.5)
    lazy, _ = inner.update({"a": torch.ones(2, dtype=torch.float64)}, inner.init(p), p)
    out, _ = scale_by_param({"a": 4.0}).update(lazy, (), p)
    assert out["a"].tolist() == [-2.0, -2.0]


def test_per_member_tensor_scales_for_stacked_ensembles():
    p = {"w": torch.zeros(3, 2)}
    tx = chain(sgd(1.0), scale_by_param({"w": torch.tensor([1.0, 2.0, 3.0])[:, None]}))
    u, _ = tx.update({"w": torch.ones(3, 2)}, tx.init(p), p)
    assert apply_updates(p, u)["w"][:, 0].tolist() == [-1.0, -2.0, -3.0]

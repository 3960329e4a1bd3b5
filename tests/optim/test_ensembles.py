"""Stacked ensembles: vmapped (and, for per-leaf rules, directly stacked) use equals
running every member on its own."""

from __future__ import annotations

import pytest
import torch
from _rule_table import HYPER, Model

from gdlab import optim
from gdlab.core import stack

MEMBERS = 3
STEPS = 4
ENSEMBLE_RTOL = 1e-12
"""Batched and unbatched kernels (matmul, SVD) may sum in another order: a few ulps per
step, far below any rule's own effect."""

PER_LEAF_RULES = ["sgd", "adam", "adamw", "adagrad", "sign_descent", "lion", "diffgrad",
                  "exadam"]
"""Rules that act on each coordinate alone, so a stacked leaf (m, *shape) is fine as is."""


def _members(model: Model) -> list[dict[str, torch.Tensor]]:
    return [model.params(shift=0.1 * i) for i in range(MEMBERS)]


def _run_alone(name, model, members):
    out = []
    for p in members:
        tx = optim.get_optimizer(name).factory(**HYPER.get(name, {}))
        state = tx.init(p)
        for _ in range(STEPS):
            grads = torch.func.grad(model.loss)(p)
            u, state = tx.update(grads, state, p, **model.extra(name, p))
            p = optim.apply_updates(p, u)
        out.append(p)
    return out


def _assert_members_equal(stacked, alone, name):
    for i, p in enumerate(alone):
        for k in p:
            torch.testing.assert_close(stacked[k][i], p[k], rtol=ENSEMBLE_RTOL, atol=1e-14,
                                       msg=lambda m, k=k, i=i: f"{name}[{k}] member {i}: {m}")


def _stacked_extra(name, model, stacked):
    """Per-member extras stacked along a leading axis (vmapped splits them)."""
    per = [model.extra(name, {k: v[i] for k, v in stacked.items()}) for i in range(MEMBERS)]
    if not per[0]:
        return {}
    return torch.utils._pytree.tree_map(lambda *xs: torch.stack(xs), *per)


@pytest.mark.parametrize("name", sorted(HYPER))
def test_vmapped_rule_equals_members_alone(name):
    model = Model()
    members = _members(model)
    stacked = stack(members)
    tx = optim.vmapped(optim.get_optimizer(name).factory(**HYPER.get(name, {})))
    state = tx.init(stacked)
    for _ in range(STEPS):
        grads = torch.func.vmap(torch.func.grad(model.loss))(stacked)
        u, state = tx.update(grads, state, stacked, **_stacked_extra(name, model, stacked))
        stacked = optim.apply_updates(stacked, u)
    _assert_members_equal(stacked, _run_alone(name, model, members), name)


@pytest.mark.parametrize("name", PER_LEAF_RULES)
def test_per_leaf_rules_run_unchanged_on_stacked_leaves(name):
    model = Model(1)
    members = _members(model)
    stacked = stack(members)
    tx = optim.get_optimizer(name).factory(**HYPER.get(name, {}))
    state = tx.init(stacked)
    for _ in range(STEPS):
        grads = torch.func.vmap(torch.func.grad(model.loss))(stacked)
        u, state = tx.update(grads, state, stacked)
        stacked = optim.apply_updates(stacked, u)
    _assert_members_equal(stacked, _run_alone(name, model, members), name)


@pytest.mark.parametrize("name", ["muon", "polargrad"])
def test_matrix_rules_read_stacked_matrices_as_a_batch(name):
    """A stacked matrix leaf (m, r, c) is m matrices, so no vmap is needed for it."""
    g = torch.Generator().manual_seed(4)
    w = torch.randn(MEMBERS, 5, 3, generator=g, dtype=torch.float64)
    grads = torch.randn(MEMBERS, 5, 3, generator=g, dtype=torch.float64)
    tx = optim.get_optimizer(name).factory(**HYPER[name])
    u, _ = tx.update({"W": grads}, tx.init({"W": w}), {"W": w})
    stacked = optim.apply_updates({"W": w}, u)["W"]
    for i in range(MEMBERS):
        one = tx.init({"W": w[i]})
        ui, _ = tx.update({"W": grads[i]}, one, {"W": w[i]})
        torch.testing.assert_close(stacked[i], optim.apply_updates({"W": w[i]}, ui)["W"],
                                   rtol=ENSEMBLE_RTOL, atol=1e-14)

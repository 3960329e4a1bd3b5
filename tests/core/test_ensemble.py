import pytest
import torch
from torch import nn

from gdlab.core import fork_rng, functionalize, stack, unstack, vmap_model


def test_vmap_model_equals_loop():
    members = []
    for s in range(4):
        with fork_rng(s):
            net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)).double()
        f, p = functionalize(net)
        members.append(p)
    x = torch.randn(5, 3, dtype=torch.float64)
    out = vmap_model(f)(stack(members), x)
    for i, p in enumerate(unstack(stack(members))):
        assert torch.allclose(out[i], f(p, x), rtol=1e-12, atol=1e-14)


def test_stack_rejects_mismatched_members():
    with pytest.raises(ValueError, match="keys"):
        stack([{"a": torch.zeros(1)}, {"b": torch.zeros(1)}])


def test_fork_rng_is_reproducible_and_restores_state():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    with fork_rng(7):
        a = torch.rand(3)
    after = torch.rand(1)
    with fork_rng(7):
        b = torch.rand(3)
    assert torch.equal(a, b)
    assert torch.equal(before, after)

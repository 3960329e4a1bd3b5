"""Small random models (float64) shared by the curvature tests, with their dense oracles.

Each case is a model (an ``nn.Module`` or a functional ``f(params, x)`` with its params), a
loss and data, small enough that `gdlab.testing.reference` materializes the Hessian and GGN.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch import nn

from gdlab.core import flatten, functionalize, hvp, unflatten
from gdlab.models import MLP
from gdlab.testing import reference
from gdlab.train import cross_entropy, mse


@dataclass
class Case:
    name: str
    model: object  # nn.Module or f(params, x)
    params: dict | None  # None: the module's own parameters
    loss_fn: object
    x: torch.Tensor
    y: torch.Tensor
    vmap_hessian_ok: bool = True

    def fn_params(self):
        """``(f, params)`` whatever the model's form."""
        if isinstance(self.model, nn.Module):
            return functionalize(self.model)
        return self.model, self.params

    def loss_of_params(self):
        f, _ = self.fn_params()
        return lambda p: self.loss_fn(f(p, self.x), self.y)

    def dense_hessian(self):
        _, p = self.fn_params()
        if self.vmap_hessian_ok:
            h = reference.hessian(self.loss_of_params(), p)
        else:
            h = _hessian_by_columns(self.loss_of_params(), p)
        return 0.5 * (h + h.T)

    def dense_ggn(self):
        f, p = self.fn_params()
        return reference.ggn(lambda q: f(q, self.x), lambda o: self.loss_fn(o, self.y), p)


def _hessian_by_columns(loss, p):
    """Dense Hessian one forward-over-reverse column at a time (no vmap).

    torch 2.13's vmapped second derivative of an affine ``layer_norm`` is wrong (reproduced:
    ``jacfwd(jacrev(L))`` vs ``torch.autograd.functional.hessian`` and finite differences
    differ by O(1) when the weight, bias and input all depend on θ), so
    `gdlab.testing.reference.hessian` cannot be the oracle for such models; an unbatched
    ``jvp(grad)`` agrees with finite differences to 1e-8.
    """
    vec, spec = flatten(p)
    cols = [flatten(hvp(loss, p, unflatten(e, spec)))[0]
            for e in torch.eye(vec.numel(), dtype=vec.dtype)]
    return torch.stack(cols, dim=1)


def _labels(g, n, classes):
    return torch.randint(0, classes, (n,), generator=g)


def _mlp_tanh_mse(g):
    net = MLP(4, (6, 5), 2, activation="tanh", generator=g).double()
    x = torch.randn(12, 4, generator=g, dtype=torch.float64)
    return Case("mlp-tanh-mse", net, None, mse, x, torch.randn(12, 2, generator=g, dtype=torch.float64))


def _mlp_relu_ce(g):
    net = MLP(5, (8,), 3, activation="relu", b_std=0.1, generator=g).double()
    x = torch.randn(16, 5, generator=g, dtype=torch.float64)
    return Case("mlp-relu-ce", net, None, cross_entropy, x, _labels(g, 16, 3))


def _cnn_ce(g):
    torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=g)))
    net = nn.Sequential(nn.Conv1d(1, 3, 3), nn.Tanh(), nn.Flatten(), nn.Linear(18, 3)).double()
    x = torch.randn(10, 1, 8, generator=g, dtype=torch.float64)
    return Case("cnn-ce", net, None, cross_entropy, x, _labels(g, 10, 3))


def _ntk_softplus_mse(g):
    net = MLP(3, (7,), 1, activation="softplus", parametrization="ntk", b_std=0.5, generator=g).double()
    x = torch.randn(9, 3, generator=g, dtype=torch.float64)
    return Case("ntk-softplus-mse", net, None, mse, x, torch.randn(9, 1, generator=g, dtype=torch.float64))


def _functional_ce(g):
    params = {
        "w1": torch.randn(4, 6, generator=g, dtype=torch.float64) / 2,
        "w2": torch.randn(6, 3, generator=g, dtype=torch.float64) / 2,
        "b": torch.randn(3, generator=g, dtype=torch.float64) / 4,
    }

    def f(p, x):
        return torch.tanh(x @ p["w1"]) @ p["w2"] + p["b"]

    x = torch.randn(11, 4, generator=g, dtype=torch.float64)
    return Case("functional-ce", f, params, cross_entropy, x, _labels(g, 11, 3))


def _layernorm_gelu_mse(g):
    torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=g)))
    net = nn.Sequential(nn.Linear(3, 5), nn.LayerNorm(5), nn.GELU(), nn.Linear(5, 2)).double()
    x = torch.randn(8, 3, generator=g, dtype=torch.float64)
    return Case("layernorm-gelu-mse", net, None, mse, x, torch.randn(8, 2, generator=g, dtype=torch.float64),
                vmap_hessian_ok=False)


BUILDERS = [_mlp_tanh_mse, _mlp_relu_ce, _cnn_ce, _ntk_softplus_mse, _functional_ce, _layernorm_gelu_mse]
CASE_NAMES = ["mlp-tanh-mse", "mlp-relu-ce", "cnn-ce", "ntk-softplus-mse", "functional-ce",
              "layernorm-gelu-mse"]


def make_case(name: str, seed: int = 0) -> Case:
    """Build case ``name`` from ``seed`` (new weights and data for each seed)."""
    g = torch.Generator().manual_seed(seed)
    builder = dict(zip(CASE_NAMES, BUILDERS, strict=True))[name]
    return builder(g)


@pytest.fixture(params=CASE_NAMES)
def case(request) -> Case:
    """Every small model, seed 0."""
    return make_case(request.param)


@pytest.fixture
def case_factory():
    """`make_case`, for tests that need other seeds ("models you have not seen")."""
    return make_case

"""Non-default hyper-parameters for the rules, and what each needs per step.

The adapter round-trip runs over *all* registered gradient rules: a rule missing from
`HYPER` (registered elsewhere, e.g. SAM) runs with its factory's defaults, ``lr=0.01`` if
it has no default learning rate, and a closure.
"""

from __future__ import annotations

import inspect

import torch

from gdlab import optim

HYPER: dict[str, dict] = {
    "sgd": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "adam": {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    "adamw": {"lr": 0.02, "betas": (0.85, 0.995), "weight_decay": 0.3},
    "adagrad": {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.1,
                "initial_accumulator_value": 0.2},
    "sign_descent": {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1},
    "normalized_gd": {"lr": 0.05, "eps": 1e-3},
    "normalized_lr_gd": {"lr": 0.05},
    "lion": {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.1},
    "diffgrad": {"lr": 0.02, "betas": (0.8, 0.9), "weight_decay": 0.01},
    "exadam": {"lr": 0.01, "weight_decay": 0.01, "step_growth": True},
    "muon": {"lr": 0.02, "momentum": 0.9, "ns_dtype": None},
    "polargrad": {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01},
    "sven": {"lr": 0.5, "k": 3, "damping": 1e-3},
}


def hyper(name: str) -> dict:
    """`HYPER`'s entry, or the defaults plus a learning rate when the rule has none."""
    if name in HYPER:
        return HYPER[name]
    params = inspect.signature(optim.get_optimizer(name).factory).parameters
    if "lr" in params and params["lr"].default in (None, inspect.Parameter.empty):
        return {"lr": 0.01}
    return {}


def gradient_rules() -> list[str]:
    """Every registered rule with a gradient interface."""
    return [s.name for s in optim.all_optimizers() if s.interface == "gradient"]


class Model:
    """``pred = tanh(x W) b`` with ``W (5, 3)``, ``b (3,)``; residuals ``pred − y``."""

    def __init__(self, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(12, 5, generator=g, dtype=torch.float64)
        self.y = torch.randn(12, generator=g, dtype=torch.float64)
        self.W = torch.randn(5, 3, generator=g, dtype=torch.float64)
        self.b = torch.randn(3, generator=g, dtype=torch.float64)

    def params(self, shift: float = 0.0) -> dict[str, torch.Tensor]:
        return {"W": self.W + shift, "b": self.b - shift}

    def residuals(self, p) -> torch.Tensor:
        return torch.tanh(self.x @ p["W"]) @ p["b"] - self.y

    def margins(self, p) -> torch.Tensor:
        """``sign(y)·pred``: margins for Normalized LR+GD (any (n,) function of θ will do)."""
        return torch.sign(self.y) * (torch.tanh(self.x @ p["W"]) @ p["b"])

    def loss(self, p) -> torch.Tensor:
        return 0.5 * (self.residuals(p) ** 2).mean()

    def extra(self, name: str, p) -> dict:
        """The ``update`` keyword arguments rule ``name`` needs at ``p``."""
        if name == "sven":
            return optim.residual_jacobian(self.residuals, p)
        if name == "normalized_lr_gd":
            return {"margins": self.margins(p)}
        return {}

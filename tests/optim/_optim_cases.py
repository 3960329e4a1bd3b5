"""A small float64 problem shared by the optimizer tests, in torch and in NumPy.

``f(W, b) = ½‖A W B − C‖_F² + ½‖D b − e‖²`` with a matrix leaf ``W (5, 3)`` and a vector
leaf ``b (3,)``: the matrix quadratic of the PolarGrad paper plus a least-squares vector.
The NumPy gradient is written by hand, so reference transcriptions never touch torch.
"""

from __future__ import annotations

import numpy as np
import torch


class Quadratic:
    """The problem's data, loss and gradients (torch and NumPy)."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.A = np.eye(5) + 0.3 * rng.standard_normal((5, 5)) / np.sqrt(5)
        self.B = np.eye(3) + 0.3 * rng.standard_normal((3, 3)) / np.sqrt(3)
        self.C = rng.standard_normal((5, 3))
        self.D = rng.standard_normal((4, 3))
        self.e = rng.standard_normal(4)
        self.W0 = rng.standard_normal((5, 3))
        self.b0 = rng.standard_normal(3)
        self._t = {k: torch.from_numpy(getattr(self, k)) for k in ("A", "B", "C", "D", "e")}

    def params(self) -> dict[str, torch.Tensor]:
        return {"W": torch.from_numpy(self.W0.copy()), "b": torch.from_numpy(self.b0.copy())}

    def np_params(self) -> dict[str, np.ndarray]:
        return {"W": self.W0.copy(), "b": self.b0.copy()}

    def loss(self, p: dict[str, torch.Tensor]) -> torch.Tensor:
        t = self._t
        r1 = t["A"] @ p["W"] @ t["B"] - t["C"]
        r2 = t["D"] @ p["b"] - t["e"]
        return 0.5 * (r1**2).sum() + 0.5 * (r2**2).sum()

    def np_loss(self, p: dict[str, np.ndarray]) -> float:
        r1 = self.A @ p["W"] @ self.B - self.C
        r2 = self.D @ p["b"] - self.e
        return 0.5 * float((r1**2).sum() + (r2**2).sum())

    def np_grad(self, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        r1 = self.A @ p["W"] @ self.B - self.C
        r2 = self.D @ p["b"] - self.e
        return {"W": self.A.T @ r1 @ self.B.T, "b": self.D.T @ r2}


def run_rule(tx, problem: Quadratic, steps: int):
    """Apply the pure rule ``steps`` times from the problem's start; returns the params."""
    from gdlab import optim

    params = problem.params()
    state = tx.init(params)
    for _ in range(steps):
        grads = torch.func.grad(problem.loss)(params)
        updates, state = tx.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    return params

"""Sharpness tracking during training: a probe for `gdlab.train.train`.

The sharpness is the top Hessian eigenvalue ``λ_1(∇²L(θ_t))``. Gradient descent with step ``η``
is linearly stable only where ``λ_1 < 2/η``; at the edge of stability it hovers at ``2/η``
(Cohen et al. 2021). Tracking it every ``k`` steps is cheap when Lanczos starts from the previous
top eigenvector, which moves little between probes: a warm start typically needs a third to
half of the products of a cold one.

For adaptive methods the relevant quantity is the preconditioned sharpness
``λ_1(P^{-1} H) = λ_1(P^{-1/2} H P^{-1/2})``; for Adam ``P = diag(√v̂_t + ε)`` and the
stability threshold is ``(2 + 2β_1)/((1 − β_1) η)`` (38/η for ``β_1 = 0.9``; Cohen et al. 2022).

Example::

    probe = SharpnessProbe(f, mse, x, y)
    result = train(loss, params, optim.gd(0.05), steps=1000, probes=[(10, probe)])
    steps, lam = result.probe_series("sharpness")

References:
    Cohen, Kaur, Li, Kolter & Talwalkar, "Gradient descent on neural networks typically occurs
    at the edge of stability", ICLR 2021.
    Cohen et al., "Adaptive gradient methods at the edge of stability", arXiv:2207.14484, 2022.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from gdlab._typing import LossFn, ModelFn, Params
from gdlab.core.tree import flatten
from gdlab.optim import GradientTransformation
from gdlab.probes.curvature.lanczos import lanczos_eigsh
from gdlab.probes.curvature.operators import (
    LinearOperator,
    diagonal_congruence,
    hessian_operator,
    resolve_model,
)

PROBE_TOL = 1e-4
"""Relative accuracy of the tracked sharpness: far below the ±15% bands that stability claims
test, and reached in a few products from a warm start."""


class SharpnessProbe:
    """``probe(step, params) -> {"sharpness": λ_1, "sharpness_hvps": m, "sharpness_seconds": t}``.

    Args:
        model: an ``nn.Module`` or ``f(params, x)`` (the probe is called with ``params``).
        loss_fn, x, y: the training loss and data (full batch, or a fixed probe batch).
        k: eigenvalues tracked; ``sharpness_2 … sharpness_k`` are added for ``k > 1``.
        tol: Lanczos tolerance (`lanczos_eigsh`).
        max_steps: cap on products per call.
        chunk_size, reduction: as in `hessian_operator`.
        preconditioner: ``() -> Params | None``, the diagonal ``P`` (shaped like the
            parameters) at the current step, e.g. ``lambda: adam_preconditioner(rec.state)``;
            adds ``preconditioned_sharpness`` ``= λ_1(P^{-1/2} H P^{-1/2})``.
        warm_start: start Lanczos from the previous call's eigenvectors.
        generator: RNG for the first (cold) start.
        name: prefix of the returned keys.

    Attributes:
        vector: the last top eigenvector (flat ``(P,)``), or ``None`` before the first call.
        total_matvecs: Hessian-vector products used over all calls.
    """

    def __init__(
        self,
        model: nn.Module | ModelFn,
        loss_fn: LossFn,
        x: Tensor,
        y: Tensor,
        *,
        k: int = 1,
        tol: float = PROBE_TOL,
        max_steps: int | None = None,
        chunk_size: int | None = None,
        reduction: str = "mean",
        preconditioner: Callable[[], Params | None] | None = None,
        warm_start: bool = True,
        generator: torch.Generator | None = None,
        name: str = "sharpness",
    ):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        # The probe is called with the parameters; only the function is kept from the model.
        self.f = resolve_model(model, None)[0] if isinstance(model, nn.Module) else model
        if not callable(self.f):
            raise ValueError(
                f"model must be an nn.Module or f(params, x), got {type(model).__name__}")
        self.loss_fn, self.x, self.y = loss_fn, x, y
        self.k, self.tol, self.max_steps = k, tol, max_steps
        self.chunk_size, self.reduction = chunk_size, reduction
        self.preconditioner = preconditioner
        self.warm_start = warm_start
        self.generator = generator
        self.name = name
        self.vector: Tensor | None = None
        self._vectors: Tensor | None = None
        self._pvector: Tensor | None = None
        self.total_matvecs = 0

    def __call__(self, step: int, params: Params) -> dict[str, float]:
        """Measure at ``params``; returns the sharpness, its products and seconds."""
        t0 = time.perf_counter()
        op = hessian_operator(self.f, self.loss_fn, self.x, self.y, params=params,
                              chunk_size=self.chunk_size, reduction=self.reduction)
        res = lanczos_eigsh(op, self.k, tol=self.tol, max_steps=self.max_steps,
                            v0=self._start(self._vectors), generator=self.generator,
                            return_eigenvectors=True)
        assert res.eigenvectors is not None
        self._vectors = res.eigenvectors
        self.vector = res.eigenvectors[:, 0]
        name = self.name
        out = {name: float(res.eigenvalues[0])}
        out.update({f"{name}_{i + 1}": float(res.eigenvalues[i]) for i in range(1, self.k)})
        used = res.num_matvecs
        if self.preconditioner is not None:
            diag = self.preconditioner()
            if diag is not None:
                pres = self._preconditioned(op, params, diag)
                out[f"preconditioned_{name}"] = float(pres.eigenvalues[0])
                used += pres.num_matvecs
        self.total_matvecs += used
        out[f"{name}_hvps"] = float(used)
        out[f"{name}_seconds"] = time.perf_counter() - t0
        return out

    def _preconditioned(self, op: LinearOperator, params: Params, diag: Params):
        p = flatten({k: diag[k] for k in params})[0]
        if bool((p <= 0).any()):
            raise ValueError("the preconditioner's diagonal must be positive")
        pop = diagonal_congruence(op, p.rsqrt())
        v0 = self._pvector[:, None] if self._pvector is not None else None
        res = lanczos_eigsh(pop, 1, tol=self.tol, max_steps=self.max_steps, v0=self._start(v0),
                            generator=self.generator, return_eigenvectors=True)
        assert res.eigenvectors is not None
        self._pvector = res.eigenvectors[:, 0]
        return res

    def _start(self, vectors: Tensor | None) -> Tensor | None:
        """The warm start: the sum of the previous eigenvectors (a component along each)."""
        if not self.warm_start or vectors is None:
            return None
        return vectors.sum(dim=1)


class StateRecorder:
    """Wrap an update rule so the latest optimizer state is readable (for probes).

    `gdlab.train.train` passes probes the parameters only; ``rec = StateRecorder(tx)`` and
    training with ``rec.tx`` makes ``rec.state`` the state after the latest update (or the
    initial state), e.g. for `adam_preconditioner`.
    """

    def __init__(self, tx: GradientTransformation):
        self.state: Any = None

        def init(params: Params):
            self.state = tx.init(params)
            return self.state

        def update(grads, state, params=None, **extra):
            updates, self.state = tx.update(grads, state, params, **extra)
            return updates, self.state

        self.tx = GradientTransformation(init, update)


def adam_preconditioner(state: Any, *, b2: float = 0.999, eps: float = 1e-8) -> Params | None:
    """Adam's diagonal preconditioner ``P = √(v_t/(1 − β_2^t)) + ε`` from its state.

    Finds the Adam moments (a state with fields ``count, mu, nu``) anywhere inside a chained
    state. Returns ``None`` before the first update (``t = 0``, no second moment yet).
    ``b2`` and ``eps`` must be the optimizer's.
    """
    adam = _find_adam_state(state)
    if adam is None:
        raise ValueError("no Adam state (fields count, mu, nu) found in this optimizer state")
    t = int(adam.count)
    if t == 0:
        return None
    return {k: (v / (1 - b2**t)).sqrt() + eps for k, v in adam.nu.items()}


def _find_adam_state(state: Any):
    if hasattr(state, "_fields") and {"count", "mu", "nu"} <= set(state._fields):
        return state
    if isinstance(state, (tuple, list)):
        for s in state:
            found = _find_adam_state(s)
            if found is not None:
                return found
    return None

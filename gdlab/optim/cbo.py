"""Consensus-based optimization (CBO): derivative-free, particle-based global minimization.

N particles ``X^i ∈ R^d`` drift toward a weighted consensus point and diffuse around it
(Pinnau, Totzeck, Tse, Martin 2017; anisotropic noise: Carrillo, Jin, Li, Zhu 2021;
analysed as a stochastic relaxation of gradient descent by Riedl, Klock, Geldhauser,
Fornasier 2023, 'Gradient is all you need?'). Euler–Maruyama step of size Δt:

.. math::
    v_α = \\frac{\\sum_j X^j e^{−α f(X^j)}}{\\sum_j e^{−α f(X^j)}},\\qquad
    X^i ← X^i − λΔt\\,(X^i − v_α) + σ\\sqrt{Δt}\\,D(X^i − v_α)\\,ξ^i,\\quad ξ^i \\sim N(0, I_d)

with ``D(z) = diag(z)`` (anisotropic) or ``‖z‖₂ I`` (isotropic). The weights are a softmax
of ``−αf`` (log-sum-exp), so ``α = 10⁴`` is safe.

Why not a `GradientTransformation`: CBO has no gradient, updates all particles jointly
from their objective values, and needs fresh Gaussian noise every step; one parameter
vector in a ``torch.optim`` model cannot carry it. So the rule is a pure step over a
particle tensor, `cbo_step`, with the noise passed in (reproducible, and vmappable over
independent runs: particles ``(..., N, d)``), plus `cbo_minimize`, which draws the noise
from a `torch.Generator` and loops.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from gdlab.optim._validation import check_nonnegative, check_positive, check_positive_int

Objective = Callable[[Tensor], Tensor]
"""``f(x) -> values``: ``x`` of shape ``(..., d)`` to values of shape ``(...)``."""


class CBOState(NamedTuple):
    """Particles, their objective values, the consensus point and the step count."""

    particles: Tensor  # (..., N, d)
    values: Tensor  # (..., N)
    consensus: Tensor  # (..., d)
    count: Tensor  # () int64


class CBOResult(NamedTuple):
    """What `cbo_minimize` returns: the final state and the recorded consensus path."""

    state: CBOState
    steps: list[int]
    consensus_path: Tensor  # (len(steps), ..., d)


def consensus_point(particles: Tensor, values: Tensor, alpha: float) -> Tensor:
    """The weighted mean ``v_α`` with weights ``softmax(−α f)`` over the particle axis.

    Args:
        particles: ``(..., N, d)``.
        values: ``(..., N)`` objective values of the particles.
        alpha: inverse temperature ``α ≥ 0`` (``α → ∞``: the best particle; 0: the mean).

    Returns:
        ``(..., d)``.
    """
    weights = torch.softmax(-alpha * values, dim=-1)  # (..., N)
    return (weights.unsqueeze(-1) * particles).sum(dim=-2)


def cbo_init(particles: Tensor, objective: Objective, *, alpha: float) -> CBOState:
    """Evaluate the particles ``(..., N, d)`` and their consensus point."""
    _check_particles(particles)
    check_nonnegative("alpha", alpha)
    values = objective(particles)
    count = torch.zeros((), dtype=torch.int64, device=particles.device)
    return CBOState(particles, values, consensus_point(particles, values, alpha), count)


def cbo_step(
    state: CBOState,
    objective: Objective,
    noise: Tensor,
    *,
    lam: float,
    sigma: float,
    alpha: float,
    dt: float,
    anisotropic: bool = True,
) -> CBOState:
    """One Euler–Maruyama step of CBO (module docstring), pure.

    Args:
        state: from `cbo_init` or a previous step.
        objective: ``(..., d) -> (...)``.
        noise: standard normal ``ξ`` shaped like ``state.particles``.
        lam: drift strength λ toward the consensus point.
        sigma: noise strength σ.
        alpha: inverse temperature α of the consensus weights.
        dt: time step Δt.
        anisotropic: ``D(z) = diag(z)`` (True) or ``‖z‖₂ I`` (False).

    Returns:
        The next state (particles moved, re-evaluated, new consensus point).
    """
    x = state.particles
    if noise.shape != x.shape:
        raise ValueError(f"noise has shape {tuple(noise.shape)}, particles {tuple(x.shape)}")
    diff = x - state.consensus.unsqueeze(-2)  # (..., N, d)
    scale = diff if anisotropic else torch.linalg.vector_norm(diff, dim=-1, keepdim=True)
    x_new = x - lam * dt * diff + sigma * math.sqrt(dt) * scale * noise
    values = objective(x_new)
    return CBOState(x_new, values, consensus_point(x_new, values, alpha), state.count + 1)


def cbo_minimize(
    objective: Objective,
    particles: Tensor,
    *,
    steps: int,
    lam: float,
    sigma: float,
    alpha: float,
    dt: float,
    anisotropic: bool = True,
    generator: torch.Generator | None = None,
    record_every: int = 0,
) -> CBOResult:
    """Run `cbo_step` ``steps`` times from ``particles`` ``(..., N, d)``.

    Leading axes of ``particles`` are independent runs (the objective must accept them).
    The answer is ``result.state.consensus`` ``(..., d)``.

    Args:
        objective: ``(..., d) -> (...)``.
        particles: initial particles ``(..., N, d)``.
        steps: number of steps.
        lam, sigma, alpha, dt, anisotropic: see `cbo_step`.
        generator: source of the noise (``None``: the global RNG).
        record_every: record the consensus point every this many steps (0: never);
            step 0 (after init) and the last step are always recorded when > 0.

    Example:
        >>> f = lambda x: ((x - 0.5) ** 2).sum(-1)
        >>> x0 = torch.randn(100, 3, generator=torch.Generator().manual_seed(0))
        >>> res = cbo_minimize(f, x0, steps=500, lam=1.0, sigma=0.8, alpha=1e3, dt=0.02,
        ...                    anisotropic=False, generator=torch.Generator().manual_seed(1))
        >>> bool((res.state.consensus - 0.5).abs().max() < 0.05)
        True
    """
    check_positive_int("steps", steps)
    for name, v in [("lam", lam), ("sigma", sigma), ("alpha", alpha)]:
        check_nonnegative(name, v)
    check_positive("dt", dt)
    check_nonnegative("record_every", record_every)
    state = cbo_init(particles, objective, alpha=alpha)
    rec_steps, path = [], []
    if record_every:
        rec_steps.append(0)
        path.append(state.consensus)
    for t in range(1, steps + 1):
        noise = torch.randn(particles.shape, generator=generator, dtype=particles.dtype,
                            device=particles.device)
        state = cbo_step(state, objective, noise, lam=lam, sigma=sigma, alpha=alpha, dt=dt,
                         anisotropic=anisotropic)
        if record_every and (t % record_every == 0 or t == steps):
            rec_steps.append(t)
            path.append(state.consensus)
    consensus_path = torch.stack(path) if path else particles.new_zeros((0, *particles.shape[:-2],
                                                                         particles.shape[-1]))
    return CBOResult(state, rec_steps, consensus_path)


def _check_particles(particles: Tensor) -> None:
    if particles.dim() < 2:
        raise ValueError(f"particles must be (..., N, d), got shape {tuple(particles.shape)}")
    if particles.shape[-2] < 1:
        raise ValueError("need at least one particle")

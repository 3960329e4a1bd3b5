"""In-context linear-regression prompts (Garg et al. 2022; Ahn et al. 2023; Zhang et al. 2023)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class Prompts:
    """A batch of regression prompts.

    Attributes:
        x: ``(B, N, d)`` context inputs, ``x_i ~ N(0, Λ)``.
        y: ``(B, N)`` context labels ``y_i = w·x_i``.
        x_query: ``(B, d)``; y_query: ``(B,)`` its label.
        w: ``(B, d)`` the task vectors ``w ~ N(0, I)``.
    """

    x: Tensor
    y: Tensor
    x_query: Tensor
    y_query: Tensor
    w: Tensor


def regression_prompts(
    batch: int,
    n_context: int,
    d: int,
    *,
    cov_eigs: Tensor | None = None,
    noise: float = 0.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> Prompts:
    """Sample prompts ``(x_1, y_1, …, x_N, y_N, x_q)`` with ``x ~ N(0, diag(cov_eigs))``.

    Each prompt has its own task ``w ~ N(0, I_d)`` and labels ``y = w·x + noise·ε``.
    """
    if batch <= 0 or n_context <= 0 or d <= 0:
        raise ValueError("batch, n_context and d must be positive")
    dt = dtype if dtype is not None else torch.get_default_dtype()
    scale = (torch.ones(d, dtype=dt) if cov_eigs is None else cov_eigs.to(dt)).sqrt()
    x = torch.randn(batch, n_context + 1, d, generator=generator, dtype=dt) * scale
    w = torch.randn(batch, d, generator=generator, dtype=dt)
    y = torch.einsum("bnd,bd->bn", x, w)
    if noise:
        y = y + noise * torch.randn(y.shape, generator=generator, dtype=dt)
    return Prompts(x[:, :-1], y[:, :-1], x[:, -1], y[:, -1], w)

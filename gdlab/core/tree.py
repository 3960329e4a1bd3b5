"""Arithmetic on parameter dicts (``dict[str, Tensor]``), the one container gdlab uses.

Every function keeps key order, so two dicts built from the same module line up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from gdlab._typing import Params


def tree_map(fn: Callable[..., Tensor], tree: Params, *rest: Params) -> Params:
    """Apply ``fn`` leaf-wise: ``{k: fn(tree[k], *(r[k] for r in rest))}``."""
    return {k: fn(v, *(r[k] for r in rest)) for k, v in tree.items()}


def tree_add(a: Params, b: Params, alpha: float | Tensor = 1.0) -> Params:
    """``a + alpha * b``."""
    return {k: a[k] + alpha * b[k] for k in a}


def tree_sub(a: Params, b: Params) -> Params:
    """``a - b``."""
    return {k: a[k] - b[k] for k in a}


def tree_scale(a: Params, s: float | Tensor) -> Params:
    """``s * a``."""
    return {k: s * v for k, v in a.items()}


def tree_zeros_like(a: Params) -> Params:
    """Zeros shaped like ``a``."""
    return {k: torch.zeros_like(v) for k, v in a.items()}


def tree_vdot(a: Params, b: Params) -> Tensor:
    """Euclidean inner product ``Σ_k <a_k, b_k>`` as a 0-d tensor."""
    return sum((torch.sum(a[k] * b[k]) for k in a), torch.zeros((), dtype=_dtype(a)))


def tree_norm(a: Params) -> Tensor:
    """Euclidean norm of all leaves together."""
    return torch.sqrt(tree_vdot(a, a))


def tree_detach(a: Params) -> Params:
    """Detached clones, safe to mutate."""
    return {k: v.detach().clone() for k, v in a.items()}


def tree_to(a: Params, *, device=None, dtype=None) -> Params:
    """Move every leaf to ``device`` / ``dtype``."""
    return {k: v.to(device=device, dtype=dtype) for k, v in a.items()}


class FlatSpec(NamedTuple):
    """What `unflatten` needs to rebuild a dict from a flat vector."""

    keys: tuple[str, ...]
    shapes: tuple[torch.Size, ...]
    numels: tuple[int, ...]


def flatten(a: Params) -> tuple[Tensor, FlatSpec]:
    """Concatenate all leaves into one vector ``(P,)``; returns it and the spec to undo it."""
    keys = tuple(a)
    shapes = tuple(a[k].shape for k in keys)
    numels = tuple(a[k].numel() for k in keys)
    vec = torch.cat([a[k].reshape(-1) for k in keys]) if keys else torch.zeros(0)
    return vec, FlatSpec(keys, shapes, numels)


def unflatten(vec: Tensor, spec: FlatSpec) -> Params:
    """Inverse of `flatten`: split ``vec`` ``(..., P)`` back into named leaves.

    Leading batch dimensions are kept, so a matrix of stacked flat vectors ``(m, P)``
    becomes a dict of ``(m, *shape)`` tensors.
    """
    lead = vec.shape[:-1]
    parts = torch.split(vec, list(spec.numels), dim=-1)
    return {k: p.reshape(*lead, *s) for k, p, s in zip(spec.keys, parts, spec.shapes, strict=True)}


def num_params(a: Params) -> int:
    """Total number of scalars in ``a``."""
    return sum(v.numel() for v in a.values())


def _dtype(a: Params) -> torch.dtype:
    for v in a.values():
        return v.dtype
    return torch.get_default_dtype()

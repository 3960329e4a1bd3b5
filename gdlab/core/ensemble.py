"""Stacked parameters: many models of one shape as one tensor dict with a leading axis.

``stack([p_0, ..., p_{m-1}])`` gives ``{k: (m, *shape)}``; ``vmap_model(f)`` evaluates
``f`` for every member at once with `torch.func.vmap`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from gdlab._typing import ModelFn, Params


def stack(members: Sequence[Params]) -> Params:
    """Stack ``m`` parameter dicts of identical shapes into one dict with a leading ``(m,)``."""
    if not members:
        raise ValueError("stack needs at least one member")
    keys = list(members[0])
    for i, p in enumerate(members):
        if list(p) != keys:
            raise ValueError(f"member {i} has keys {list(p)}, expected {keys}")
    return {k: torch.stack([p[k] for p in members]) for k in keys}


def unstack(stacked: Params) -> list[Params]:
    """Inverse of `stack`."""
    m = next(iter(stacked.values())).shape[0]
    return [{k: v[i] for k, v in stacked.items()} for i in range(m)]


def ensemble_size(stacked: Params) -> int:
    """Number of members ``m`` of a stacked dict."""
    return next(iter(stacked.values())).shape[0]


def vmap_model(f: ModelFn, *, shared_inputs: bool = True) -> ModelFn:
    """Vectorize ``f(params, x)`` over stacked params.

    Args:
        f: ``f(params, x) -> y`` for one model.
        shared_inputs: ``True``: every member sees the same ``x``; ``False``: ``x`` carries a
            leading member axis too.

    Returns:
        ``g(stacked_params, x) -> (m, *y.shape)``.
    """
    return torch.func.vmap(f, in_dims=(0, None if shared_inputs else 0))

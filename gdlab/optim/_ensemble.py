"""Any rule over a stacked ensemble, one member at a time, with `torch.func.vmap`.

Elementwise rules (SGD, Adam, Lion, ...) already run unchanged on stacked parameters
``{k: (m, *shape)}``. Rules that look at a whole leaf or the whole tree (normalized GD,
Muon/PolarGrad on vectors, Sven) would mix the members; `vmapped` maps them over the
leading member axis so each member is updated exactly as it would be alone.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gdlab.optim._base import GradientTransformation, materialize


def _is_tensor_tree(x) -> bool:
    if isinstance(x, Tensor):
        return True
    if isinstance(x, dict):
        return bool(x) and all(_is_tensor_tree(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return bool(x) and all(_is_tensor_tree(v) for v in x)
    return False


def vmapped(tx: GradientTransformation) -> GradientTransformation:
    """``tx`` applied member by member to stacked parameters (leading member axis).

    ``init`` and ``update`` are `torch.func.vmap` of ``tx``'s. Extra ``update`` arguments
    that are tensors (or dicts/lists of tensors) are split along their leading member axis
    too (per-member ``loss``, ``residuals``, ``jacobian``); others (callables, numbers)
    are passed to every member as they are. Updates come back materialized (plain dicts),
    since lazy factors cannot cross `vmap`.

    Example:
        >>> import torch
        >>> from gdlab.optim import normalized_gd
        >>> tx = vmapped(normalized_gd(1.0))
        >>> p = {"w": torch.tensor([[3.0, 4.0], [5.0, 12.0]])}   # two members
        >>> u, _ = tx.update(p, tx.init(p), p)
        >>> u["w"]
        tensor([[-0.6000, -0.8000],
                [-0.3846, -0.9231]])
    """

    def init(params):
        return torch.func.vmap(tx.init)(params)

    def update(grads, state, params=None, **extra):
        if params is None:
            raise ValueError("vmapped rules need params (they carry the member axis)")
        mapped = {k: v for k, v in extra.items() if _is_tensor_tree(v)}
        shared = {k: v for k, v in extra.items() if k not in mapped}

        def one(g, s, p, m):
            u, s2 = tx.update(g, s, p, **m, **shared)
            return dict(materialize(u, p)), s2

        return torch.func.vmap(one)(grads, state, params, mapped)

    return GradientTransformation(init, update)

"""Per-parameter learning-rate multipliers as a gradient transformation (for μP and friends).

A parametrization such as μP asks for a different learning rate per layer (Yang et al. 2022,
Tensor Programs V, Table 3). `scale_by_param` multiplies each leaf of the update by its own
factor; put it **last** in a chain, after the rule that produced the step::

    scales = gdlab.models.lr_scales(model)           # {"layers.0.weight": 256.0, ...}
    tx = chain(sgd(lr), scale_by_param(scales))       # leaf k moves by −lr·scales[k]·g_k
    tx = chain(adam(lr), scale_by_param(scales))      # Adam: the scale must come after
                                                      # the normalization, not before it

Placed last it multiplies the whole step of that leaf, including decoupled weight decay
(as ``mup``'s ``MuAdamW`` scales both lr and decay), and momentum buffers stay unscaled, so
``chain(sgd(lr, momentum), scale_by_param(s))`` equals SGD with per-group learning rates
``lr·s`` (``torch.optim`` parameter groups) up to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from gdlab._typing import Params
from gdlab.optim._base import EmptyState, GradientTransformation, materialize


def scale_by_param(
    scales: Mapping[str, float | Tensor], *, default: float | None = None
) -> GradientTransformation:
    """``u_k ← scales[k] · u_k`` for every leaf ``k``.

    Args:
        scales: one multiplier per parameter name (a float, or a tensor broadcastable to
            that leaf, e.g. a per-member factor of shape ``(M, 1, 1)`` for a stacked ensemble).
        default: multiplier for leaves absent from ``scales``; ``None`` (the default) makes a
            missing name an error, so that a renamed parameter cannot silently keep lr 1.

    Returns:
        A stateless `GradientTransformation` whose updates are plain additive steps.

    Raises:
        ValueError: at ``init``, if a parameter has no scale and no ``default`` is given.

    Example:
        >>> import torch
        >>> from gdlab.optim import apply_updates, chain, sgd
        >>> p = {"a": torch.ones(2), "b": torch.ones(2)}
        >>> tx = chain(sgd(0.5), scale_by_param({"a": 1.0, "b": 4.0}))
        >>> u, _ = tx.update({"a": torch.ones(2), "b": torch.ones(2)}, tx.init(p), p)
        >>> apply_updates(p, u)["b"]
        tensor([-1., -1.])
    """
    table = dict(scales)

    def factor(name: str) -> float | Tensor:
        if name in table:
            return table[name]
        if default is None:
            raise ValueError(
                f"scale_by_param has no scale for parameter {name!r}; pass it in scales "
                f"(e.g. gdlab.models.lr_scales(model)) or give default=1.0"
            )
        return default

    def init(params: Params) -> EmptyState:
        for name in params:
            factor(name)  # fail here, before training, on a missing name
        return EmptyState()

    def update(grads, state, params=None, **extra):
        if getattr(grads, "is_lazy", False):
            # Called directly after a rule that keeps its lr (or decay) lazy: apply it first,
            # so that the scale multiplies the whole step. Inside `chain` this already happened.
            grads = materialize(grads, params)
        return {k: u * factor(k) for k, u in grads.items()}, state

    return GradientTransformation(init, update)

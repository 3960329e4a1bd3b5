"""Role aliases used in signatures across gdlab."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

Params = dict[str, Tensor]
"""A model's parameters (or anything shaped like them: gradients, updates, tangents)."""

ModelFn = Callable[..., Tensor]
"""``f(params, x) -> y``: a model as a pure function of its parameters."""

LossFn = Callable[[Tensor, Tensor], Tensor]
"""``loss(prediction, target) -> scalar``."""

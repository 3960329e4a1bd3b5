"""Update rules as pure functions over parameter dicts (optax's `init`/`update` pattern).

A `GradientTransformation` is a pair of pure functions::

    state = tx.init(params)
    updates, state = tx.update(grads, state, params)
    params = apply_updates(params, updates)

They use only tensor operations on whole leaves, so the same rule runs on one model or,
unchanged, on a stacked ensemble (leaves with a leading member axis), and under
`torch.func.vmap`. `chain` composes transformations left to right.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor

from gdlab._typing import Params

State = Any


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(grads, state, params, **extra) -> (updates, state)``.

    ``extra`` carries what some rules need beyond the gradient, e.g. ``loss_fn`` for SAM or
    per-sample gradients for natural-gradient steps; rules that do not use it ignore it.
    """

    init: Callable[[Params], State]
    update: Callable[..., tuple[Params, State]]


class EmptyState(NamedTuple):
    """State of a stateless transformation."""


class Updates(dict):
    """Updates whose last scalar factor and parameter decay are applied by `apply_updates`.

    ``apply_updates`` computes ``torch.add(params * param_scale, updates, alpha=alpha)``.
    ``alpha`` is one float for every leaf, or a dict with one float per leaf (rules whose
    step size depends on the leaf's shape, such as Muon).
    Keeping the learning rate (``alpha``) and decoupled weight decay (``param_scale``) apart
    from the sum lets the step round exactly as ``torch.optim`` rounds its in-place
    ``param.add_(g, alpha=-lr)`` and ``param.mul_(1 - lr·wd)``, so float64 runs match it bit
    for bit. Only the last transformation of a chain may return lazy factors; `chain`
    applies them (`materialize`) before handing updates to a later transformation.
    """

    alpha: float | dict[str, float] | None = None
    param_scale: Tensor | float | None = None

    @property
    def is_lazy(self) -> bool:
        """Whether a factor is still to be applied."""
        return self.alpha is not None or self.param_scale is not None


def materialize(updates: Params, params: Params | None = None) -> Params:
    """The plain additive step ``new_params − params`` as a dict (lazy factors applied)."""
    alpha = getattr(updates, "alpha", None)
    scale = getattr(updates, "param_scale", None)
    if alpha is not None:
        out = {k: u * _leaf(alpha, k) for k, u in updates.items()}
    else:
        out = dict(updates)
    if scale is not None:
        if params is None:
            raise ValueError("these updates decay the parameters; pass params to materialize")
        out = {k: u + (scale - 1) * params[k] for k, u in out.items()}
    return out


def apply_updates(params: Params, updates: Params) -> Params:
    """``params · param_scale + alpha · updates`` leaf-wise (plain ``params + updates``
    for an ordinary dict)."""
    alpha = getattr(updates, "alpha", None)
    scale = getattr(updates, "param_scale", None)
    out = {}
    for k, p in params.items():
        base = p if scale is None else p * scale
        if alpha is None:
            out[k] = base + updates[k]
        else:
            out[k] = torch.add(base, updates[k], alpha=_leaf(alpha, k))
    return out


def _leaf(alpha: float | dict[str, float], key: str) -> float:
    """The lazy factor of leaf ``key`` (``alpha`` may be shared or per leaf)."""
    return alpha[key] if isinstance(alpha, dict) else alpha


def identity() -> GradientTransformation:
    """Pass gradients through unchanged."""

    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(grads, state, params=None, **extra):
        return grads, state

    return GradientTransformation(init, update)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Compose transformations: the output updates of one are the input of the next.

    Example:
        >>> from gdlab.optim import scale_by_learning_rate, trace
        >>> tx = chain(trace(momentum=0.9), scale_by_learning_rate(0.1))
        >>> p = {"w": torch.ones(2)}
        >>> u, s = tx.update({"w": torch.ones(2)}, tx.init(p), p)
        >>> materialize(u)["w"]    # the lr stays a lazy factor until applied
        tensor([-0.1000, -0.1000])
    """
    if not transforms:
        raise ValueError("chain needs at least one transformation, e.g. chain(scale(-0.1))")
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(
                f"chain argument {i} is {type(t).__name__}, not a GradientTransformation"
            )

    def init(params: Params) -> tuple:
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, params=None, **extra):
        new_state = []
        last = len(transforms) - 1
        for i, (t, s) in enumerate(zip(transforms, state, strict=True)):
            grads, s = t.update(grads, s, params, **extra)
            # Lazy factors stay lazy only into a transformation that keeps them (decoupled
            # weight decay); any other one needs the plain step.
            if (
                i < last
                and getattr(grads, "is_lazy", False)
                and not accepts_lazy(transforms[i + 1])
            ):
                grads = materialize(grads, params)
            new_state.append(s)
        return grads, tuple(new_state)

    return GradientTransformation(init, update)


def keeps_lazy(update: Callable[..., tuple[Params, State]]) -> Callable:
    """Mark an ``update`` function as one that passes lazy `Updates` factors on unchanged.

    `chain` then hands it the lazy updates of the transformation before it instead of
    materializing them, so e.g. ``lr`` and decoupled weight decay both reach `apply_updates`
    and round as ``torch.optim`` does.
    """
    update.keeps_lazy = True  # type: ignore[attr-defined]
    return update


def accepts_lazy(tx: GradientTransformation) -> bool:
    """Whether ``tx.update`` was marked with `keeps_lazy`."""
    return bool(getattr(tx.update, "keeps_lazy", False))


Schedule = Callable[[Tensor], Tensor | float]
"""``schedule(count) -> value``; ``count`` is the 0-d step tensor (0 on the first step)."""


def as_schedule(value: float | Schedule) -> Schedule:
    """A constant becomes a constant schedule."""
    if callable(value):
        return value
    v = float(value)
    return lambda count: v


def step_count(like: Params) -> Tensor:
    """A 0-d int64 step counter on the parameters' device."""
    for v in like.values():
        return torch.zeros((), dtype=torch.int64, device=v.device)
    return torch.zeros((), dtype=torch.int64)

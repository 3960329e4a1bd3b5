"""Sharpness-Aware Minimization (SAM) as a pure update rule.

Foret, Kleiner, Mobahi & Neyshabur, "Sharpness-Aware Minimization for Efficiently Improving
Generalization", ICLR 2021, Algorithm 1 (``p = 2``). SAM minimizes
``max_{‖ε‖≤ρ} L(θ + ε)`` by one ascent step to the (first-order) worst point and a descent
step with the gradient there:

.. math:: \\hat ε(θ) = ρ\\, \\frac{∇L(θ)}{‖∇L(θ)‖_2}, \\qquad
          g_{SAM} = ∇L(θ)\\big|_{θ + \\hat ε(θ)}, \\qquad θ ← \\mathrm{base}(θ, g_{SAM}).

With ``adaptive=True`` it is ASAM (Kwon et al., ICML 2021): ``ε̂ = ρ T² g/‖T g‖``,
``T = diag(|θ|)``, invariant to rescaling of the weights.

The second gradient needs the loss at another point, so ``update`` takes a gradient function
through its extra arguments: ``grad_fn(params) -> grads`` (or ``loss_fn(params) -> scalar``).
In `gdlab.train.train` pass ``update_extra=sam_extra(loss_fn)``; through the torch adapter,
``opt.step(closure)`` with the usual closure (zero the gradients, compute the loss, call
``backward``, return the loss) supplies ``grad_fn``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from gdlab._typing import Params
from gdlab.optim._aliases import adam, sgd
from gdlab.optim._base import GradientTransformation, Schedule

SAM_NORM_EPS = 1e-12
"""Added to ``‖g‖`` in ``ρ g/‖g‖``, as in the authors' and davda54's implementations, so a zero
gradient gives a zero perturbation instead of NaN."""

_BASES = {"sgd", "adam"}


def sam(
    lr: float | Schedule | None = None,
    rho: float = 0.05,
    base: str | GradientTransformation = "sgd",
    *,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    adaptive: bool = False,
) -> GradientTransformation:
    """SAM around a base rule (Foret et al. 2021, Algorithm 1).

    Args:
        lr: the base rule's learning rate (with ``base`` a name).
        rho: the neighbourhood radius ``ρ`` (0.05 is the paper's default for CIFAR).
        base: ``"sgd"``, ``"adam"``, or any `GradientTransformation` (then ``lr`` must be
            ``None``: it lives in the base).
        momentum, weight_decay: of the base rule when given by name (``momentum`` only for
            ``"sgd"``).
        adaptive: ASAM's scale-invariant neighbourhood.

    Returns:
        A transformation whose ``update(grads, state, params, *, grad_fn=None, loss_fn=None)``
        needs ``params`` and one of ``grad_fn`` / ``loss_fn``.

    Example:
        >>> tx = sam(lr=0.1, rho=0.5)
        >>> p = {"w": torch.tensor([1.0, 2.0])}
        >>> loss = lambda q: 0.5 * (q["w"] ** 2).sum()
        >>> g = {"w": p["w"].clone()}                       # ∇L = w
        >>> u, _ = tx.update(g, tx.init(p), p, loss_fn=loss)
        >>> # ε = 0.5·w/‖w‖, so g_SAM = w + ε and the step is −0.1·(w + ε)
        >>> torch.allclose(u["w"] * u.alpha, -0.1 * p["w"] * (1 + 0.5 / 5**0.5))
        True
    """
    if rho < 0:
        raise ValueError(f"rho must be >= 0, got {rho}")
    base_tx = _base_rule(lr, base, momentum, weight_decay)

    def init(params: Params) -> Any:
        return base_tx.init(params)

    def update(grads, state, params=None, *, grad_fn=None, loss_fn=None, **extra):
        if params is None:
            raise ValueError("SAM perturbs the parameters: pass params to update")
        gradient = _gradient_function(grad_fn, loss_fn)
        eps = perturbation(grads, params, rho, adaptive=adaptive)
        g_sam = gradient({k: params[k] + eps[k] for k in params})
        return base_tx.update(g_sam, state, params, **extra)

    return GradientTransformation(init, update)


def perturbation(grads: Params, params: Params, rho: float, *, adaptive: bool = False) -> Params:
    """SAM's ascent step ``ε̂ = ρ g/‖g‖`` (ASAM: ``ρ T²g/‖Tg‖``, ``T = |θ|``).

    Norms are over all leaves together (one model, not an ensemble's members).
    """
    if adaptive:
        scaled = {k: params[k].abs() * g for k, g in grads.items()}  # T g
        norm = torch.sqrt(sum((s * s).sum() for s in scaled.values()))
        return {k: rho * params[k].abs() * s / (norm + SAM_NORM_EPS) for k, s in scaled.items()}
    norm = torch.sqrt(sum((g * g).sum() for g in grads.values()))
    return {k: rho * g / (norm + SAM_NORM_EPS) for k, g in grads.items()}


def sam_extra(loss_fn: Callable[..., Tensor]) -> Callable[[Params, Any], dict]:
    """``update_extra`` for `gdlab.train.train`: a ``grad_fn`` of the same loss (and batch).

    ``train(loss_fn, params, sam(...), steps, update_extra=sam_extra(loss_fn))``.
    """

    def extra(params: Params, batch: Any) -> dict:
        args = () if batch is None else (batch,)
        return {"grad_fn": lambda q: _autograd(lambda p: loss_fn(p, *args), q)}

    return extra


def _base_rule(lr, base, momentum: float, weight_decay: float) -> GradientTransformation:
    if isinstance(base, GradientTransformation):
        if lr is not None or momentum or weight_decay:
            raise ValueError("with a GradientTransformation as base, set lr/momentum/weight_decay "
                             "in the base itself")
        return base
    if base not in _BASES:
        raise ValueError(f"base must be one of {sorted(_BASES)} or a GradientTransformation, "
                         f"got {base!r}")
    if lr is None:
        raise ValueError(f"SAM with base={base!r} needs lr")
    if base == "sgd":
        return sgd(lr, momentum, weight_decay=weight_decay)
    if momentum:
        raise ValueError("momentum applies to base='sgd'; Adam has betas")
    return adam(lr, weight_decay=weight_decay)


def _gradient_function(grad_fn, loss_fn) -> Callable[[Params], Params]:
    if grad_fn is not None:
        return grad_fn
    if loss_fn is not None:
        return lambda q: _autograd(loss_fn, q)
    raise ValueError(
        "SAM evaluates the gradient at θ + ε: pass grad_fn= or loss_fn= to update "
        "(train(..., update_extra=sam_extra(loss_fn))), or call the torch adapter's "
        "step(closure)"
    )


def _autograd(loss_fn: Callable[[Params], Tensor], params: Params) -> Params:
    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    with torch.enable_grad():
        grads = torch.autograd.grad(loss_fn(leaves), list(leaves.values()), allow_unused=True)
    return {k: (g if g is not None else torch.zeros_like(leaves[k]))
            for k, g in zip(leaves, grads, strict=True)}

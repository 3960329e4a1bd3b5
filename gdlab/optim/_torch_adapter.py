"""Any `GradientTransformation` as a ``torch.optim.Optimizer``.

``torch_optimizer("adam", model.parameters(), lr=1e-3)`` gives an optimizer that runs the
pure rule on the module's parameters in place. The learning rate is read from
``param_groups[0]["lr"]`` at every step, so ``torch.optim.lr_scheduler`` works unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

import torch

from gdlab.errors import UserInputError
from gdlab.optim._base import GradientTransformation, apply_updates
from gdlab.optim._registry import get_optimizer


class TransformOptimizer(torch.optim.Optimizer):
    """Run a pure update rule on ``params`` through the ``torch.optim`` interface.

    All parameters form one tree keyed ``"0", "1", ...`` in the order given, so rules that
    look at the whole tree (normalized GD, global clipping) see every parameter. A parameter
    whose ``.grad`` is ``None`` gets a zero gradient. ``step(closure)`` passes the closure to
    the rule as ``closure=`` (for rules that re-evaluate the loss, such as SAM) and its value
    as ``loss=``; other keyword arguments of ``step`` go to the rule as they are (e.g.
    ``residuals=``/``jacobian=`` for Sven).

    ``state_dict()`` holds only tensors and plain containers, so it survives
    ``torch.save``/``torch.load(weights_only=True)``; ``load_state_dict`` rebuilds the rule's
    state structure from ``tx.init``.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        tx: GradientTransformation | Callable[[TransformOptimizer], GradientTransformation],
        defaults: dict | None = None,
    ):
        super().__init__(params, dict(defaults or {}))
        if len(self.param_groups) != 1:
            raise ValueError("TransformOptimizer takes one parameter group")
        self.tx = tx(self) if not isinstance(tx, GradientTransformation) else tx
        self._tx_state = None

    def _tree(self) -> dict[str, torch.Tensor]:
        return {str(i): p for i, p in enumerate(self.param_groups[0]["params"])}

    @torch.no_grad()
    def step(self, closure=None, **extra):
        """One update; returns the closure's loss when a closure is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = self._tree()
        grads = {k: p.grad if p.grad is not None else torch.zeros_like(p)
                 for k, p in params.items()}
        values = {k: p.detach() for k, p in params.items()}
        if self._tx_state is None:
            self._tx_state = self.tx.init(values)
        if closure is not None:
            extra = {"closure": closure, "loss": loss,
                     "grad_fn": _closure_gradient(closure, params), **extra}
        updates, self._tx_state = self.tx.update(grads, self._tx_state, values, **extra)
        new = apply_updates(values, updates)
        for k, p in params.items():
            p.copy_(new[k])
        return loss

    def state_dict(self) -> dict:
        """The rule's state (plain containers of tensors) and the group's hyper-parameters."""
        group = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        return {"tx_state": _plain(_clone(self._tx_state)), "param_groups": [group]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict` saved (state moves to the parameters' device)."""
        device = self.param_groups[0]["params"][0].device
        saved = state_dict["tx_state"]
        if saved is None:
            self._tx_state = None
        else:
            values = {k: p.detach() for k, p in self._tree().items()}
            template = self.tx.init(values)
            self._tx_state = _clone(_restructure(template, saved), device)
        self.param_groups[0].update(state_dict["param_groups"][0])


def torch_optimizer(name: str, params: Iterable[torch.Tensor], **hyper) -> TransformOptimizer:
    """A ``torch.optim.Optimizer`` running the registered rule ``name``.

    Args:
        name: a registered rule (``gdlab list --kind optimizer``), e.g. ``"adam"``.
        params: the parameters to optimize.
        **hyper: the rule's hyper-parameters, named as in ``torch.optim`` where it exists.

    Example:
        >>> net = torch.nn.Linear(3, 1)
        >>> opt = torch_optimizer("sgd", net.parameters(), lr=0.1, momentum=0.9)
        >>> net(torch.randn(4, 3)).pow(2).mean().backward(); _ = opt.step()
    """
    spec = get_optimizer(name)
    if spec.interface != "gradient":
        raise UserInputError(
            f"{name} is a {spec.interface} method, not a gradient update rule, so it has no "
            f"torch.optim form; call {spec.factory.__module__}.{spec.factory.__name__} instead"
        )
    sig = inspect.signature(spec.factory)
    bad = [k for k in hyper if k not in sig.parameters]
    if bad:
        raise TypeError(f"{name} has no hyper-parameter(s) {bad}; it takes {list(sig.parameters)}")

    def build(opt: TransformOptimizer) -> GradientTransformation:
        kwargs = dict(hyper)
        if "lr" in sig.parameters and not callable(hyper.get("lr")):
            # Read the lr from the group at every step so lr schedulers act on it.
            kwargs["lr"] = lambda count: opt.param_groups[0]["lr"]
        return spec.factory(**kwargs)

    defaults = {}
    if "lr" in sig.parameters:
        lr = hyper.get("lr", sig.parameters["lr"].default)
        if lr is inspect.Parameter.empty:
            raise TypeError(f"{name} needs a learning rate: pass lr=")
        # A schedule passed as lr= stays inside the rule; the group's lr is then unused.
        if not callable(lr):
            defaults["lr"] = lr
    return TransformOptimizer(params, build, defaults)


def _plain(tree):
    """Named tuples become plain tuples (loadable with ``torch.load(weights_only=True)``)."""
    if isinstance(tree, tuple):
        return tuple(_plain(t) for t in tree)
    if isinstance(tree, list):
        return [_plain(t) for t in tree]
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items()}
    return tree


def _restructure(template, plain):
    """``plain`` (as saved by `_plain`) rebuilt with ``template``'s container types."""
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        _check_len(template, plain)
        return type(template)(*(_restructure(t, p) for t, p in zip(template, plain, strict=True)))
    if isinstance(template, (tuple, list)):
        _check_len(template, plain)
        return type(template)(_restructure(t, p) for t, p in zip(template, plain, strict=True))
    if isinstance(template, dict):
        if set(template) != set(plain):
            raise ValueError(f"saved optimizer state has keys {sorted(plain)}, "
                             f"this rule expects {sorted(template)}")
        return {k: _restructure(template[k], plain[k]) for k in template}
    return plain


def _check_len(template, plain) -> None:
    if not isinstance(plain, (tuple, list)) or len(plain) != len(template):
        raise ValueError("saved optimizer state does not match this rule's state structure "
                         "(was it saved from another optimizer or hyper-parameters?)")


def _clone(tree, device=None):
    if isinstance(tree, torch.Tensor):
        return tree.detach().clone().to(device) if device is not None else tree.detach().clone()
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(_clone(t, device) for t in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(_clone(t, device) for t in tree)
    if isinstance(tree, dict):
        return {k: _clone(v, device) for k, v in tree.items()}
    return tree


def _closure_gradient(closure, params: dict[str, torch.Tensor]):
    """``grad_fn(values) -> grads``: the closure's gradient at other parameter values.

    For rules that need the gradient at a second point (SAM): the live parameters are set to
    ``values``, the closure recomputes the loss and calls ``backward``, the new ``.grad``s are
    read, and the parameters and their previous ``.grad``s are restored.
    """

    def grad_fn(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        saved = {k: p.detach().clone() for k, p in params.items()}
        old_grads = {k: p.grad for k, p in params.items()}
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(values[k])
                p.grad = None
        with torch.enable_grad():
            closure()
        grads = {k: p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
                 for k, p in params.items()}
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(saved[k])
                p.grad = old_grads[k]
        return grads

    return grad_fn

"""Any `GradientTransformation` as a ``torch.optim.Optimizer``.

``torch_optimizer("adam", model.parameters(), lr=1e-3)`` gives an optimizer that runs the
pure rule on the module's parameters in place. The learning rate is read from
``param_groups[0]["lr"]`` at every step, so ``torch.optim.lr_scheduler`` works unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

import torch

from gdlab.optim._base import GradientTransformation, apply_updates
from gdlab.optim._registry import get_optimizer


class TransformOptimizer(torch.optim.Optimizer):
    """Run a pure update rule on ``params`` through the ``torch.optim`` interface.

    All parameters form one tree keyed ``"0", "1", ...`` in the order given, so rules that
    look at the whole tree (normalized GD, global clipping) see every parameter. A parameter
    whose ``.grad`` is ``None`` gets a zero gradient. ``step(closure)`` passes the closure to
    the rule as ``closure=`` (for rules that re-evaluate the loss, such as SAM).
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
    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = self._tree()
        grads = {k: (p.grad if p.grad is not None else torch.zeros_like(p)) for k, p in params.items()}
        values = {k: p.detach() for k, p in params.items()}
        if self._tx_state is None:
            self._tx_state = self.tx.init(values)
        extra = {"closure": closure} if closure is not None else {}
        updates, self._tx_state = self.tx.update(grads, self._tx_state, values, **extra)
        new = apply_updates(values, updates)
        for k, p in params.items():
            p.copy_(new[k])
        return loss

    def state_dict(self) -> dict:
        """The rule's state and the hyper-parameters of the group."""
        group = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        return {"tx_state": _clone(self._tx_state), "param_groups": [group]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what `state_dict` saved (state moves to the parameters' device)."""
        device = self.param_groups[0]["params"][0].device
        self._tx_state = _clone(state_dict["tx_state"], device)
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
    sig = inspect.signature(spec.factory)
    bad = [k for k in hyper if k not in sig.parameters]
    if bad:
        raise TypeError(f"{name} has no hyper-parameter(s) {bad}; it takes {list(sig.parameters)}")

    def build(opt: TransformOptimizer) -> GradientTransformation:
        kwargs = dict(hyper)
        if "lr" in sig.parameters:
            # Read the lr from the group at every step so lr schedulers act on it.
            kwargs["lr"] = lambda count: opt.param_groups[0]["lr"]
        return spec.factory(**kwargs)

    defaults = {"lr": hyper["lr"]} if "lr" in hyper else {}
    return TransformOptimizer(params, build, defaults)


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

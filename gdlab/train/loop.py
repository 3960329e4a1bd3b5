"""The training loop: straight-line code, probes scheduled by step, divergence as a status.

::

    result = train(loss_fn, params, optim.sgd(0.1), steps=1000,
                   probes=[(10, sharpness_probe)], log=ctx.log)

``loss_fn(params)`` (full batch) or ``loss_fn(params, batch)`` with ``batches=``. A probe is
``probe(step, params) -> dict[str, float] | None``; what it returns is logged as series
``name`` at that step. NaN/inf or a loss above ``blowup × initial`` ends the loop with
``status = "diverged"`` and the last finite parameters; it never raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from gdlab._typing import Params
from gdlab.errors import Diverged
from gdlab.optim import GradientTransformation, apply_updates

Probe = Callable[[int, Params], "dict[str, float] | None"]
Logger = Callable[[str, int, float], None]


@dataclass
class TrainResult:
    """What `train` returns.

    Attributes:
        params: final parameters (the last finite ones if the run diverged).
        state: final optimizer state.
        status: ``"ok"`` or ``"diverged"``.
        steps: number of updates applied.
        losses: training loss before each update (``len == steps`` when ok).
        probes: every probe output, ``{name: [(step, value), ...]}``.
        reason: why the run diverged, if it did.
    """

    params: Params
    state: Any
    status: str
    steps: int
    losses: list[float]
    probes: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    reason: str = ""

    @property
    def diverged(self) -> bool:
        """``status == "diverged"``."""
        return self.status == "diverged"

    def raise_if_diverged(self) -> TrainResult:
        """Raise `gdlab.errors.Diverged` (with the last finite loss) if the run diverged."""
        if self.diverged:
            last = {"loss": self.losses[-1]} if self.losses else {}
            raise Diverged(self.reason, step=self.steps, last_finite=last)
        return self

    def probe_series(self, name: str) -> tuple[list[int], list[float]]:
        """``(steps, values)`` of one probe output."""
        pts = self.probes.get(name, [])
        return [s for s, _ in pts], [v for _, v in pts]


def value_and_grad(loss_fn: Callable[..., Tensor], params: Params, *args) -> tuple[Tensor, Params]:
    """Loss and gradient by reverse-mode autograd (cheaper than `torch.func` for one model)."""
    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    with torch.enable_grad():
        loss = loss_fn(leaves, *args)
        grads = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
    out = {k: (g if g is not None else torch.zeros_like(leaves[k]))
           for k, g in zip(leaves, grads, strict=True)}
    return loss.detach(), out


def train(
    loss_fn: Callable[..., Tensor],
    params: Params,
    tx: GradientTransformation,
    steps: int,
    *,
    batches: Iterable[Any] | None = None,
    probes: Sequence[tuple[int, Probe]] = (),
    log: Logger | None = None,
    log_every: int = 1,
    blowup: float = 1e8,
    stop: Callable[[int, float], bool] | None = None,
    progress: Callable[[int], Iterable[int]] | None = None,
    state: Any = None,
    update_extra: Callable[[Params, Any], dict] | None = None,
) -> TrainResult:
    """Run ``steps`` updates of ``tx`` on ``loss_fn`` from ``params``.

    Args:
        loss_fn: ``loss_fn(params)`` or, with ``batches``, ``loss_fn(params, batch)``.
        params: initial parameters (not modified).
        tx: the update rule.
        steps: number of updates.
        batches: an iterable of batches, one per step (cycled if shorter).
        probes: ``(every, probe)`` pairs; probes run at steps ``0, every, 2·every, …`` and after
            the last update (at ``step = steps``), on the parameters *before* that step's update.
        log: ``log(name, step, value)`` receives the loss (every ``log_every`` steps) and
            probe outputs.
        blowup: the run diverges when the loss exceeds ``blowup ×`` the initial loss.
        stop: ``stop(step, loss) -> bool`` ends training early (e.g. at a target loss).
        progress: wraps ``range(steps)``, e.g. ``ctx.trange``.
        state: optimizer state to resume from (default ``tx.init(params)``).
        update_extra: ``update_extra(params, batch) -> dict`` of extra arguments for
            ``tx.update`` (e.g. a loss closure for SAM).

    Returns:
        A `TrainResult`; ``status == "diverged"`` on NaN/inf or blow-up.
    """
    params = {k: v.detach() for k, v in params.items()}
    state = tx.init(params) if state is None else state
    losses: list[float] = []
    outputs: dict[str, list[tuple[int, float]]] = {}
    batch_iter: Iterator[Any] | None = _cycle(batches) if batches is not None else None
    first_loss: float | None = None
    steps_iter = progress(steps) if progress is not None else range(steps)

    def run_probes(step: int, p: Params) -> None:
        for every, probe in probes:
            if step % every == 0 or step == steps:
                for name, value in (probe(step, p) or {}).items():
                    outputs.setdefault(name, []).append((step, float(value)))
                    if log is not None:
                        log(name, step, float(value))

    step = 0
    for step in steps_iter:
        batch = next(batch_iter) if batch_iter is not None else None
        args = (batch,) if batch_iter is not None else ()
        loss, grads = value_and_grad(loss_fn, params, *args)
        value = float(loss)
        if first_loss is None:
            first_loss = value
        bad = _bad_loss(value, first_loss, blowup) or not _finite(grads)
        if bad:
            return TrainResult(params, state, "diverged", step, losses, outputs, bad or "non-finite gradient")
        losses.append(value)
        if log is not None and step % log_every == 0:
            log("loss", step, value)
        run_probes(step, params)
        if stop is not None and stop(step, value):
            return TrainResult(params, state, "ok", step, losses, outputs)
        extra = update_extra(params, batch) if update_extra is not None else {}
        updates, state = tx.update(grads, state, params, **extra)
        params = apply_updates(params, updates)
    else:
        step = steps
    # Final evaluation after the last update.
    if steps > 0 and step == steps:
        args = (next(batch_iter),) if batch_iter is not None else ()
        with torch.no_grad():
            final = float(loss_fn(params, *args))
        bad = _bad_loss(final, first_loss if first_loss is not None else final, blowup)
        if bad:
            return TrainResult(params, state, "diverged", steps, losses, outputs, bad)
        if log is not None:
            log("loss", steps, final)
        run_probes(steps, params)
    return TrainResult(params, state, "ok", steps, losses, outputs)


def _bad_loss(value: float, first: float, blowup: float) -> str:
    if not math.isfinite(value):
        return f"loss became {value}"
    if value > blowup * max(abs(first), 1e-12):
        return f"loss {value:.3g} exceeded {blowup:g} × initial {first:.3g}"
    return ""


def _finite(tree: Params) -> bool:
    # One sum per leaf instead of isfinite+all (two passes and a bool tensor): NaN and ±inf
    # propagate through a sum, which overflows only for gradients beyond ~1e38/P.
    total = sum(float(v.sum()) for v in tree.values())
    return math.isfinite(total)


def _cycle(it: Iterable[Any]) -> Iterator[Any]:
    while True:
        empty = True
        for x in it:
            empty = False
            yield x
        if empty:
            raise ValueError("batches is empty")

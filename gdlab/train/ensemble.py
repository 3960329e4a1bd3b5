"""Train many models of one shape as one batched computation.

An ensemble is a stacked parameter dict (`gdlab.core.stack`: every leaf has a leading member
axis ``m``). An *objective* maps it to every member's loss and gradient at once::

    objective(params) -> (losses (m,), grads {k: (m, *shape)})      # or (params, batch)

and `train_ensemble` applies any pure `gdlab.optim` rule to it, with the divergence semantics
of the single-model loop `gdlab.train.train`, per member: a member whose loss turns NaN/inf or
blows up is marked ``diverged`` and frozen at its last parameters; the others go on.

Two objectives:

- `mlp_objective` (fast path): a `gdlab.models.MLP` (any parametrization, any activation)
  with hand-derived forward and backward passes over stacked weights, as one GEMM for a
  shared input layer and `torch.baddbmm` elsewhere, in the ``(features, samples)`` layout so
  that every product is contiguous. Members go in chunks sized to the cache.
  On a 2-core CPU this beats both `torch.func.vmap` and a Python loop over models
  (``bench/ensemble.py``).
- `vmap_objective` (any model): ``vmap(grad_and_value(loss_fn))``.

Example::

    nets = [MLP(16, (32, 32), generator=generator(s)) for s in range(8)]
    params = stack([functionalize(n)[1] for n in nets])
    res = train_ensemble(mlp_objective(nets[0], mse, data=(x, y)), params, optim.sgd(0.1), 500)
    res.member(3).losses        # member 3, as `train` would have returned it

A phenomenon that trains all its seeds as one ensemble opts in with `seeds_at_once`.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import Tensor

from gdlab._typing import LossFn, Params
from gdlab.errors import Diverged
from gdlab.optim import EmptyState, GradientTransformation, apply_updates, materialize
from gdlab.train.loop import TrainResult, _cycle

Objective = Callable[..., tuple[Tensor, Params]]
"""``objective(params[, batch]) -> (losses (m,), grads)`` over stacked params."""
EnsembleProbe = Callable[[int, Params], "dict[str, Tensor] | None"]
"""``probe(step, stacked_params) -> {name: values (m,)}``."""
Logger = Callable[[str, int, float], None]

# Members per batched product (bench/RESULTS.md, "## Ensembles", 2-core EPYC, 2 threads):
# each thread gets at least MIN_MEMBERS_PER_THREAD members, to spread the per-product dispatch
# and thread hand-off (case a: chunks of 1-2 members were 11-23% slower than 16), and beyond
# that one layer's activations stay near CHUNK_BYTES per thread, the L2 of a core (case b:
# 256 members, 4 MiB, were ~10% slower than 64-128; case a: 64 members, 32 MiB, 40% slower).
CHUNK_BYTES = 1 << 20
MIN_MEMBERS_PER_THREAD = 8


# --------------------------------------------------------------------------------------------
# Fast path: stacked MLP with a hand-derived backward pass
# --------------------------------------------------------------------------------------------
class _Act(NamedTuple):
    """An activation with its hand-written backward ``dz = φ'(z) ⊙ dh``.

    ``forward(z)`` may overwrite ``z`` when ``needs_z`` is false (the backward then reads
    only ``h = φ(z)``); ``backward(dh, z, h)`` may overwrite ``dh``. In-place and fused
    kernels matter here: elementwise passes over ``(m, width, n)`` cost as much as the GEMMs.
    """

    forward: Callable[[Tensor], Tensor]
    backward: Callable[[Tensor, Tensor | None, Tensor], Tensor]
    needs_z: bool


_ERF_SCALE = 2 / math.sqrt(math.pi)
_threshold_backward = torch.ops.aten.threshold_backward.grad_input  # ReLU's own backward kernel
# Keyed by `gdlab.models.layers.ACTIVATIONS` names; any other activation goes through autograd.
_ACTS: dict[str, _Act] = {
    "relu": _Act(torch.relu_, lambda dh, z, h: _threshold_backward(dh, h, 0, grad_input=dh), False),
    "tanh": _Act(torch.tanh_, lambda dh, z, h: dh.mul_(1 - h * h), False),
    "sigmoid": _Act(torch.sigmoid_, lambda dh, z, h: dh.mul_(h * (1 - h)), False),
    "identity": _Act(lambda z: z, lambda dh, z, h: dh, False),
    "erf": _Act(torch.erf, lambda dh, z, h: dh.mul_(torch.exp(-z * z)).mul_(_ERF_SCALE), True),
    "sin": _Act(torch.sin, lambda dh, z, h: dh.mul_(torch.cos(z)), True),
    "softplus": _Act(torch.nn.functional.softplus, lambda dh, z, h: dh.mul_(torch.sigmoid(z)),
                     True),
}


@dataclass(frozen=True)
class _Layer:
    weight: str  # parameter name of w: (out, in)
    bias: str | None
    multiplier: float
    b_multiplier: float


def _mlp_layers(model: torch.nn.Module) -> list[_Layer]:
    """The dense layers of a `gdlab.models.MLP`, read from the module."""
    layers = getattr(model, "layers", None)
    if layers is None or not hasattr(model, "activation_name"):
        raise TypeError(f"mlp_objective needs a gdlab.models.MLP, got {type(model).__name__}; "
                        "use vmap_objective for other models")
    out = []
    for i, layer in enumerate(layers):
        if not hasattr(layer, "multiplier"):
            raise TypeError(f"layer {i} is {type(layer).__name__}, not a ScaledLinear")
        bias = f"layers.{i}.bias" if layer.bias is not None else None
        out.append(_Layer(f"layers.{i}.weight", bias, float(layer.multiplier),
                          float(layer.b_multiplier)))
    return out


def _chunk_size(m: int, n: int, widths: Sequence[int], itemsize: int) -> int:
    """Members per chunk: `MIN_MEMBERS_PER_THREAD` per torch thread or more, as many as keep
    one layer's activations, ``chunk·n·width``, within `CHUNK_BYTES` per thread."""
    threads = torch.get_num_threads()
    per_member = max(n * max(widths) * itemsize, 1)
    by_cache = CHUNK_BYTES * threads // per_member
    return max(1, min(m, max(by_cache, MIN_MEMBERS_PER_THREAD * threads)))


class _StackedMLP:
    """Forward and hand-derived backward of ``m`` stacked MLPs.

    Activations are kept as ``(m, width, n)`` (features × samples), so that with a shared
    input the first layer is one GEMM ``(m·width, d) @ (d, n)`` and every other product is a
    contiguous `torch.baddbmm`. Training steps write activations into a workspace that is
    reused from step to step: fresh multi-MiB tensors cost page faults on every step.
    """

    def __init__(self, model: torch.nn.Module):
        self.layers = _mlp_layers(model)
        self.act = model.act
        self.rule = _ACTS.get(model.activation_name)  # None: differentiate `act` by autograd
        self.out_scale = float(getattr(model, "out_scale", 1.0))
        self.widths = [layer.out_features for layer in model.layers]
        self._ws: dict[tuple, Tensor] = {}

    def _buf(self, tag: str, shape: tuple[int, ...], like: Tensor) -> Tensor:
        key = (tag, shape, like.dtype, like.device)
        buf = self._ws.get(key)
        if buf is None:
            buf = self._ws[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buf

    def forward(self, params: Params, xt: Tensor, *, keep: bool = False):
        """Outputs ``(m, out, n)`` from inputs ``xt``: ``(d, n)`` shared or ``(m, d, n)``.

        With ``keep`` (a training step), also the list of ``(z, h)`` pre/post-activations
        for `backward`; then the outputs live in the workspace until the next step.
        """
        cache = []
        h = xt
        last = len(self.layers) - 1
        for i, L in enumerate(self.layers):
            z = self._linear(params, L, h, f"z{i}" if keep else None)
            if i == last:
                break
            if self.rule is None:
                if keep:
                    z = z.detach().requires_grad_(True)
                with torch.enable_grad() if keep else contextlib.nullcontext():
                    a = self.act(z)
                if keep:
                    cache.append((z, a))
                h = a.detach()
            else:
                h = self.rule.forward(z)  # may overwrite z
                if keep:
                    cache.append((z if self.rule.needs_z else None, h))
        out = z * self.out_scale if self.out_scale != 1.0 else z
        return (out, cache) if keep else out

    def _linear(self, params: Params, L: _Layer, h: Tensor, tag: str | None) -> Tensor:
        """``multiplier · w h + b_multiplier · b``: ``(m, o, n)``, into the workspace ``tag``."""
        w = params[L.weight]  # (m, o, i)
        m, o, _ = w.shape
        n = h.shape[-1]
        out = None if tag is None or self.rule is None else self._buf(tag, (m, o, n), w)
        b = None if L.bias is None else params[L.bias]
        if h.dim() == 2:  # shared input (i, n): one GEMM for all members
            flat = None if out is None else out.view(m * o, n)
            wf = w.reshape(m * o, -1)
            if b is None:
                z = torch.mm(wf, h, out=flat)
            else:
                z = torch.addmm(b.reshape(m * o, 1), wf, h, beta=L.b_multiplier,
                                alpha=L.multiplier, out=flat)
            z = z.view(m, o, n)
        elif b is None:
            z = torch.bmm(w, h, out=out)
        else:
            return torch.baddbmm(b.unsqueeze(-1), w, h, beta=L.b_multiplier, alpha=L.multiplier,
                                 out=out)
        return z.mul_(L.multiplier) if b is None and L.multiplier != 1.0 else z

    def backward(self, params: Params, xt: Tensor, cache, dout: Tensor, grads: Params) -> None:
        """Write the gradients of ``Σ_members loss`` into ``grads`` (stacked like ``params``),
        from ``dout = ∂loss/∂out``, ``(m, out, n)``."""
        delta = dout * self.out_scale if self.out_scale != 1.0 else dout  # ∂/∂z of the last layer
        for i in range(len(self.layers) - 1, -1, -1):
            L = self.layers[i]
            h_prev = xt if i == 0 else cache[i - 1][1].detach()
            gw = grads[L.weight]  # (m, o, i)
            if h_prev.dim() == 2:  # shared input: ∂w = δ xᵀ as one GEMM over members
                m, o, n = delta.shape
                torch.mm(delta.reshape(m * o, n), h_prev.T, out=gw.view(m * o, -1))
            else:
                torch.bmm(delta, h_prev.transpose(1, 2), out=gw)
            if L.multiplier != 1.0:
                gw.mul_(L.multiplier)
            if L.bias is not None:
                torch.sum(delta, -1, out=grads[L.bias])
                if L.b_multiplier != 1.0:
                    grads[L.bias].mul_(L.b_multiplier)
            if i == 0:
                break
            w = params[L.weight]
            dh = self._buf(f"dh{i}", (w.shape[0], w.shape[2], delta.shape[-1]), delta)
            torch.bmm(w.transpose(1, 2), delta, out=dh)  # (m, i, n)
            if L.multiplier != 1.0:
                dh.mul_(L.multiplier)
            z, h = cache[i - 1]
            delta = self._act_backward(z, h, dh)

    def _act_backward(self, z: Tensor | None, h: Tensor, dh: Tensor) -> Tensor:
        if self.rule is None:
            (dz,) = torch.autograd.grad(h, z, dh)
            return dz
        return self.rule.backward(dh, z, h)


def mlp_objective(
    model: torch.nn.Module,
    loss: LossFn,
    data: tuple[Tensor, Tensor] | None = None,
    *,
    chunk: int | None = None,
) -> Objective:
    """Losses and gradients of stacked copies of ``model`` (a `gdlab.models.MLP`).

    Args:
        model: the shape (and parametrization, activation, output scale) of every member; its
            own parameter values are not used.
        loss: ``loss(pred, target) -> scalar`` for one model, e.g. `gdlab.train.mse`; its
            gradient with respect to the outputs is taken by autograd, the network's by hand.
        data: ``(x, y)`` for full-batch training; then ``objective(params)``. Without it,
            ``objective(params, (x, y))`` (one batch per step). ``x: (n, d)`` is shared by
            all members; ``x: (m, n, d)`` gives each member its own data (and then
            ``y`` carries the member axis too).
        chunk: members per batched computation; default: `_chunk_size` (sized to the cache
            and the number of torch threads).

    Returns:
        ``objective(params[, batch]) -> (losses (m,), grads)`` with ``grads`` stacked like
        ``params`` (keys of ``model.named_parameters()``).
    """
    net = _StackedMLP(model)

    def value_and_grad(params: Params, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Params]:
        x, y = batch
        per_member = x.dim() == 3
        xt = x.transpose(-1, -2).contiguous()  # (d, n) or (m, d, n)
        m = next(iter(params.values())).shape[0]
        size = chunk or _chunk_size(m, x.shape[-2], net.widths, x.element_size())
        # Each chunk writes its slice of these (no concatenation afterwards).
        grads = {k: torch.empty_like(v) for k, v in params.items()}
        losses = []
        for s in range(0, m, size):
            sl = slice(s, s + size)
            losses.append(_chunk_vg(net, loss, {k: v[sl] for k, v in params.items()},
                                    xt[sl] if per_member else xt, y[sl] if per_member else y,
                                    per_member, {k: g[sl] for k, g in grads.items()}))
        return (losses[0] if len(losses) == 1 else torch.cat(losses)), grads

    if data is not None:
        return lambda params: value_and_grad(params, data)
    return value_and_grad


def _chunk_vg(net: _StackedMLP, loss: LossFn, params: Params, xt: Tensor, y: Tensor,
              per_member: bool, grads: Params) -> Tensor:
    """Losses ``(m,)`` of one chunk; its gradients go into ``grads``."""
    out, cache = net.forward(params, xt, keep=True)  # (m, out, n)
    pred = out.detach().transpose(1, 2).requires_grad_(True)  # (m, n, out)
    with torch.enable_grad():
        losses = torch.func.vmap(loss, in_dims=(0, 0 if per_member else None))(pred, y)
        (dpred,) = torch.autograd.grad(losses.sum(), pred)
    net.backward(params, xt, cache, dpred.transpose(1, 2), grads)
    return losses.detach()


def stacked_mlp(model: torch.nn.Module) -> Callable[[Params, Tensor], Tensor]:
    """``f(stacked_params, x) -> (m, n, out)``: the batched forward of `mlp_objective`.

    ``x`` is ``(n, d)`` (shared) or ``(m, n, d)``.
    """
    net = _StackedMLP(model)

    def f(params: Params, x: Tensor) -> Tensor:
        return net.forward(params, x.transpose(-1, -2)).transpose(1, 2)

    return f


def vmap_objective(loss_fn: Callable[..., Tensor], *, batch_per_member: bool = False) -> Objective:
    """Any model: ``loss_fn(params[, batch])`` of one model, vmapped over the members.

    Args:
        loss_fn: what `gdlab.train.train` takes: ``loss_fn(params)`` or ``loss_fn(params, batch)``.
        batch_per_member: the batch carries a leading member axis (else it is shared).
    """
    vg = torch.func.grad_and_value(loss_fn)

    def objective(params: Params, *batch) -> tuple[Tensor, Params]:
        dims = (0,) + ((0 if batch_per_member else None),) * len(batch)
        grads, losses = torch.func.vmap(vg, in_dims=dims)(params, *batch)
        return losses.detach(), grads

    return objective


# --------------------------------------------------------------------------------------------
# The ensemble loop
# --------------------------------------------------------------------------------------------
@dataclass
class EnsembleResult:
    """What `train_ensemble` returns; ``member(i)`` is member ``i`` as `train` returns it.

    Attributes:
        params: final stacked parameters (each diverged member: its last parameters).
        state: final optimizer state.
        status: per member, ``"ok"`` or ``"diverged"``.
        steps: per member, the number of updates applied.
        losses: per member, the training loss before each update.
        probes: per member, ``{name: [(step, value), ...]}``.
        reasons: per member, why it diverged (``""`` if it did not).
    """

    params: Params
    state: Any
    status: list[str]
    steps: list[int]
    losses: list[list[float]]
    probes: list[dict[str, list[tuple[int, float]]]]
    reasons: list[str]

    @property
    def size(self) -> int:
        """Number of members ``m``."""
        return len(self.status)

    @property
    def diverged(self) -> list[bool]:
        """Per member, whether it diverged."""
        return [s == "diverged" for s in self.status]

    def member(self, i: int) -> TrainResult:
        """Member ``i`` as a `TrainResult` (its parameters unstacked; no optimizer state)."""
        params = {k: v[i] for k, v in self.params.items()}
        return TrainResult(params, None, self.status[i], self.steps[i], self.losses[i],
                           self.probes[i], self.reasons[i])


def train_ensemble(
    objective: Objective,
    params: Params,
    tx: GradientTransformation,
    steps: int,
    *,
    batches: Iterable[Any] | None = None,
    probes: Sequence[tuple[int, EnsembleProbe]] = (),
    log: Sequence[Logger] | None = None,
    log_every: int = 1,
    blowup: float = 1e8,
    stop: Callable[[int, Tensor], Tensor] | None = None,
    progress: Callable[[int], Iterable[int]] | None = None,
    state: Any = None,
) -> EnsembleResult:
    """Run ``steps`` updates of ``tx`` on every member of a stacked ensemble at once.

    Per member this is `gdlab.train.train`: the same losses, probe schedule, final evaluation
    and divergence rule (NaN/inf loss or gradient, or loss above ``blowup ×`` its initial
    loss). A member that diverges or stops is frozen (its gradient zeroed, its parameters
    kept) while the others continue.

    Args:
        objective: ``objective(params[, batch]) -> (losses (m,), grads)``, e.g.
            `mlp_objective` or `vmap_objective`.
        params: stacked initial parameters ``{k: (m, *shape)}`` (not modified).
        tx: a pure update rule, applied to the stacked leaves: right for elementwise rules
            (SGD, Adam, ...); wrap rules that look at a whole leaf in `gdlab.optim.vmapped`.
        steps: number of updates.
        batches: one batch per step (cycled), passed as ``objective(params, batch)``.
        probes: ``(every, probe)``; ``probe(step, params) -> {name: (m,) values}``, run at
            steps ``0, every, …`` and after the last update, as in `train`.
        log: one ``log(name, step, value)`` per member (e.g. ``[c.log for c in ctxs]``); each
            gets its own member's loss and probe values while it is running.
        log_every: loss logging period.
        blowup: divergence threshold relative to each member's initial loss.
        stop: ``stop(step, losses) -> (m,) bool``: members to finish now with status ok.
        progress: wraps ``range(steps)``, e.g. ``ctx.trange``.
        state: optimizer state to resume from (default ``tx.init(params)``).

    Returns:
        An `EnsembleResult`.
    """
    params = {k: v.detach() for k, v in params.items()}
    m = _size(params)
    if log is not None and len(log) != m:
        raise ValueError(f"log has {len(log)} loggers for {m} members")
    state = tx.init(params) if state is None else state
    run = _Members(m, probes, log)
    batch_iter = _cycle(batches) if batches is not None else None
    first: Tensor | None = None
    step = 0
    for step in progress(steps) if progress is not None else range(steps):
        batch = (next(batch_iter),) if batch_iter is not None else ()
        losses, grads = objective(params, *batch)
        if first is None:
            first = losses.clone()
        run.check(step, losses, first, blowup, _finite_rows(grads))
        if not run.any_alive:
            break
        run.record(step, losses, log_every)
        run.probe(step, params, steps)
        if stop is not None:
            run.finish(step, stop(step, losses))
            if not run.any_alive:
                break
        if not all(run.alive_list):
            grads = _masked(grads, run.alive)
        updates, state = tx.update(grads, state, params)
        params = run.freeze(apply_updates(params, updates), params)
    else:
        step = steps
    if steps > 0 and step == steps and run.any_alive:
        batch = (next(batch_iter),) if batch_iter is not None else ()
        with torch.no_grad():
            final, _ = objective(params, *batch)
        run.check(steps, final, first if first is not None else final, blowup, None)
        run.record(steps, final, 1, finished=True)
        run.probe(steps, params, steps)
    run.close(steps)
    return EnsembleResult(params, state, run.status, run.steps, run.losses, run.probes, run.reasons)


class _Members:
    """Per-member bookkeeping of `train_ensemble`: who is running, losses, probe outputs."""

    def __init__(self, m: int, probes, log):
        self.m, self.probes_spec, self.log = m, probes, log
        self.alive_list = [True] * m
        self.alive = torch.ones(m, dtype=torch.bool)
        self.status = ["ok"] * m
        self.steps = [0] * m
        self.losses: list[list[float]] = [[] for _ in range(m)]
        self.probes: list[dict[str, list[tuple[int, float]]]] = [{} for _ in range(m)]
        self.reasons = [""] * m

    @property
    def any_alive(self) -> bool:
        return any(self.alive_list)

    def _end(self, i: int, step: int, status: str, reason: str = "") -> None:
        self.alive_list[i] = False
        self.status[i], self.steps[i], self.reasons[i] = status, step, reason

    def _sync(self, device: torch.device) -> None:
        self.alive = torch.tensor(self.alive_list, dtype=torch.bool, device=device)

    def check(self, step: int, losses: Tensor, first: Tensor, blowup: float,
              finite_grads: Tensor | None) -> None:
        """Mark members whose loss (or gradient) is non-finite or blew up as diverged."""
        ok = torch.isfinite(losses) & (losses <= blowup * first.abs().clamp_min(1e-12))
        if finite_grads is not None:
            ok &= finite_grads
        if bool((ok | ~self.alive.to(ok.device)).all()):
            return
        vals, firsts, grads_ok = losses.tolist(), first.tolist(), (
            finite_grads.tolist() if finite_grads is not None else [True] * self.m)
        for i, good in enumerate(ok.tolist()):
            if self.alive_list[i] and not good:
                self._end(i, step, "diverged", _reason(vals[i], firsts[i], blowup, grads_ok[i]))
        self._sync(losses.device)

    def finish(self, step: int, done: Tensor) -> None:
        """Members flagged by ``stop`` end with status ok."""
        for i, d in enumerate(done.tolist()):
            if d and self.alive_list[i]:
                self._end(i, step, "ok")
        self._sync(done.device)

    def record(self, step: int, losses: Tensor, log_every: int, finished: bool = False) -> None:
        vals = losses.tolist()
        for i, v in enumerate(vals):
            if not self.alive_list[i]:
                continue
            if not finished:
                self.losses[i].append(v)
            if self.log is not None and step % log_every == 0:
                self.log[i]("loss", step, v)

    def probe(self, step: int, params: Params, steps: int) -> None:
        for every, fn in self.probes_spec:
            if step % every and step != steps:
                continue
            for name, values in (fn(step, params) or {}).items():
                for i, v in enumerate(torch.as_tensor(values).reshape(-1).tolist()):
                    if self.alive_list[i]:
                        self.probes[i].setdefault(name, []).append((step, float(v)))
                        if self.log is not None:
                            self.log[i](name, step, float(v))

    def freeze(self, new: Params, old: Params) -> Params:
        """Stopped members keep their old parameters."""
        if all(self.alive_list):
            return new
        return {k: torch.where(_bcast(self.alive, v), v, old[k]) for k, v in new.items()}

    def close(self, steps: int) -> None:
        for i in range(self.m):
            if self.alive_list[i]:
                self._end(i, steps, "ok")


def _reason(value: float, first: float, blowup: float, grad_ok: bool) -> str:
    if not math.isfinite(value):
        return f"loss became {value}"
    if not grad_ok:
        return "non-finite gradient"
    return f"loss {value:.3g} exceeded {blowup:g} × initial {first:.3g}"


def _size(params: Params) -> int:
    sizes = {v.shape[0] if v.dim() else None for v in params.values()}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"params must be stacked with one leading member axis; got sizes {sizes}")
    return sizes.pop()


def _finite_rows(tree: Params) -> Tensor:
    """``(m,)``: whether each member's gradient is finite.

    One reduction per leaf: a NaN/inf entry makes its member's sum non-finite (so does a
    sum past the dtype's range, ~1e38 in float32, which is divergence by any measure).
    """
    total = sum(v.reshape(v.shape[0], -1).sum(1) for v in tree.values())
    return torch.isfinite(total)


def _bcast(mask: Tensor, like: Tensor) -> Tensor:
    return mask.to(like.device).reshape((-1,) + (1,) * (like.dim() - 1))


def _masked(grads: Params, alive: Tensor) -> Params:
    """Zero the gradients of frozen members, so no NaN reaches the optimizer state."""
    return {k: torch.where(_bcast(alive, g), g, torch.zeros((), dtype=g.dtype, device=g.device))
            for k, g in grads.items()}


def member_scale(factors: Tensor | Sequence[float]) -> GradientTransformation:
    """``u_i ← factors[i] · u_i``: one hyper-parameter per member (e.g. learning rates).

    Chain it after a rule with unit learning rate: ``chain(optim.sgd(1.0), member_scale(lrs))``
    is GD with member ``i`` at step size ``lrs[i]``.
    """
    # float64 so that e.g. lr = 0.05 is not first rounded to float32.
    f = torch.as_tensor(factors, dtype=torch.float64) if not torch.is_tensor(factors) else factors

    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(updates, state, params=None, **extra):
        u = materialize(updates, params)
        return {k: g * _bcast(f.to(dtype=g.dtype), g) for k, g in u.items()}, state

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------------------------
# Phenomena: all seeds of one config as one ensemble
# --------------------------------------------------------------------------------------------
def seeds_at_once(run_seeds: Callable[[Any, list], list]) -> Callable[[Any, Any], dict]:
    """Turn ``run_seeds(cfg, ctxs) -> [dict | Diverged, ...]`` into a phenomenon's ``run``.

    The returned ``run(cfg, ctx)`` is the ordinary one-seed entry point (it calls
    ``run_seeds(cfg, [ctx])``); the runner sees the ``run_seeds`` attribute and executes the
    pending seeds of one config in a single call, e.g. as one `train_ensemble`. Return a
    `gdlab.errors.Diverged` *instance* (not raised) for a seed that diverged; the others are
    recorded as usual. Take randomness from ``ctx.generator()``: the global RNGs are seeded
    from the first seed of the call only.
    """

    @functools.wraps(run_seeds)
    def run(cfg, ctx) -> dict:
        (out,) = run_seeds(cfg, [ctx])
        if isinstance(out, Diverged):
            raise out
        return out

    run.run_seeds = run_seeds  # type: ignore[attr-defined]
    return run

"""Structured empirical NTK: per-layer Grams of inputs and back-propagated output gradients.

For a dense layer ``y = m · x Wᵀ + m_b · b`` applied once per sample, the Jacobian of output
``a`` with respect to ``W`` is ``m · g_a(x) ⊗ x`` where ``g_a(x) = ∂f_a(x)/∂y``, so the
layer's share of the NTK never needs the Jacobian (Novak et al. 2022, "structured
derivatives"; nngeometry's hook backend):

.. math:: Θ_l(x, x')_{ac} = (g_a(x) · g_c(x')) (m² x · x' + m_b²)

The gradients ``g`` come from ``k`` backward passes over a block (one per output) with the
layer outputs as the differentiated inputs; forward hooks record ``x`` and ``y``. Layers met
at several positions (sequence inputs, convolutions, a module called twice) get their
per-sample weight Jacobian ``Σ_t g_{a,t} ⊗ x_t`` instead (``unfold`` patches for
convolutions), still without touching other layers' parameters. Every other parameter
(attention projections stored as raw parameters, norms, embeddings) is handled by
per-sample Jacobians of the model restricted to those parameters, so the method works for
any module and is exact. The plan is verified once on a small batch: the gradient that the
captured features imply must equal autograd's, else those layers move to the Jacobian path.

Assumes samples are processed independently (as every per-pair NTK method does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from gdlab.models import ScaledLinear
from gdlab.probes._ntk_blocks import GramPiece, JacPiece, Piece
from gdlab.probes._ntk_jacobian import per_sample_jacobian

log = logging.getLogger(__name__)

_CHECK_RTOL = {torch.float64: 1e-8, torch.float32: 1e-3}
"""Agreement asked of the plan check (relative ℓ2 of the layer gradient). A layer whose
weights are also used outside its forward is off by O(1), far outside rounding."""


@dataclass
class Layer:
    """A supported layer and what its probe forward showed."""

    name: str
    module: nn.Module
    kind: str  # "linear" | "conv"
    m: float  # weight multiplier
    mb: float  # bias multiplier (0 without bias)
    gram: bool = False  # one call, 2-D input: use the Gram formula
    d_in: int = 0
    d_out: int = 0
    positions: int = 1  # calls × positions per sample
    flops: float = 0.0  # forward FLOPs per sample


@dataclass
class Plan:
    """Which parameters go through which path, and per-sample costs for `auto`."""

    layers: list[Layer]
    rest: list[str]  # parameter names handled by per-sample Jacobians
    fwd_flops: float  # forward FLOPs per sample (estimate)
    rest_numel: int = 0
    notes: list[str] = field(default_factory=list)


def _multipliers(mod: nn.Module) -> tuple[float, float]:
    has_bias = getattr(mod, "bias", None) is not None
    if isinstance(mod, ScaledLinear):
        return float(mod.multiplier), float(mod.b_multiplier) if has_bias else 0.0
    return 1.0, 1.0 if has_bias else 0.0


def _conv_supported(mod: nn.Module) -> bool:
    if not isinstance(mod, nn.Conv1d | nn.Conv2d) or mod.groups != 1 or mod.padding_mode != "zeros":
        return False
    if isinstance(mod.padding, str):
        return mod.padding == "valid" or all(
            d * (k - 1) % 2 == 0 for d, k in zip(mod.dilation, mod.kernel_size, strict=True)
        )
    return True


def make_plan(model: nn.Module, params: dict[str, Tensor], x_probe: Tensor, k: int) -> Plan:
    """Classify the parameters with one forward (and one check) on ``x_probe``."""
    owners: dict[int, int] = {}
    for mod in model.modules():
        for p in mod.parameters(recurse=False):
            owners[id(p)] = owners.get(id(p), 0) + 1
    name_of = {id(p): n for n, p in params.items()}
    layers: list[Layer] = []
    for mname, mod in model.named_modules():
        own = [p for p in mod.parameters(recurse=False) if id(p) in name_of]
        if not own or any(owners[id(p)] > 1 for p in own):  # tied weights: Jacobian path
            continue
        if isinstance(mod, nn.Linear | ScaledLinear):
            kind = "linear"
        elif _conv_supported(mod):
            kind = "conv"
        else:
            continue
        if len(own) != len(list(mod.parameters(recurse=False))):
            continue  # partly frozen layer: leave it to the Jacobian path
        layers.append(Layer(mname, mod, kind, *_multipliers(mod)))
    calls = _probe_forward(model, layers, x_probe)
    kept = []
    for layer in layers:
        seen = calls[layer.name]
        if not seen:  # weights used without calling forward (e.g. nn.MultiheadAttention.out_proj)
            continue
        x_in, y_out = seen[0]
        layer.d_in, layer.d_out = _widths(layer, x_in, y_out)
        layer.positions = sum(_positions(layer, y) for _, y in seen)
        layer.gram = layer.kind == "linear" and len(seen) == 1 and x_in.ndim == 2
        layer.flops = 2.0 * layer.d_in * layer.d_out * layer.positions
        kept.append(layer)
    plan = _finish(params, kept)
    bad = _check(model, params, plan, x_probe, k)
    if bad:
        plan.notes.append(f"moved to the Jacobian path after the gradient check: {bad}")
        plan = _finish(params, [lay for lay in kept if lay.name not in bad])
    return plan


def _finish(params: dict[str, Tensor], layers: list[Layer]) -> Plan:
    covered = {
        f"{lay.name}.{n}" if lay.name else n
        for lay in layers
        for n, _ in lay.module.named_parameters()
    }
    rest = [n for n in params if n not in covered]
    rest_numel = sum(params[n].numel() for n in rest)
    fwd = sum(lay.flops for lay in layers) + 2.0 * rest_numel
    return Plan(layers, rest, fwd, rest_numel)


def _widths(layer: Layer, x: Tensor, y: Tensor) -> tuple[int, int]:
    if layer.kind == "linear":
        return x.shape[-1], y.shape[-1]
    w = layer.module.weight
    return w[0].numel(), w.shape[0]  # patch size C_in·∏kernel, C_out


def _positions(layer: Layer, y: Tensor) -> int:
    """Positions per sample at which the layer's weights act (sequence length, conv outputs)."""
    if layer.kind == "linear":
        return y[0].numel() // y.shape[-1]
    return y[0].numel() // y.shape[1]


def _probe_forward(model: nn.Module, layers: list[Layer], x: Tensor) -> dict[str, list]:
    calls: dict[str, list] = {lay.name: [] for lay in layers}
    hooks = [
        lay.module.register_forward_hook(
            lambda mod, inp, out, name=lay.name: calls[name].append((inp[0].detach(), out.detach()))
        )
        for lay in layers
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return calls


def features(
    model: nn.Module, params: dict[str, Tensor], plan: Plan, x: Tensor, k: int
) -> list[Piece]:
    """Pieces for a block ``x: (b, ...)``: Grams for simple layers, Jacobian rows otherwise."""
    records: dict[str, list[tuple[Tensor, Tensor]]] = {lay.name: [] for lay in plan.layers}
    hooks = [
        lay.module.register_forward_hook(
            lambda mod, inp, out, name=lay.name: records[name].append((inp[0], out))
        )
        for lay in plan.layers
    ]
    try:
        with torch.enable_grad():
            out = model(x).reshape(x.shape[0], k)
            outs = [y for lay in plan.layers for _, y in records[lay.name]]
            grads = _output_gradients(out, outs, k)
    finally:
        for h in hooks:
            h.remove()
    pieces: list[Piece] = []
    it = iter(grads)
    for lay in plan.layers:
        calls = [(xin.detach(), next(it)) for xin, _ in records[lay.name]]
        pieces.extend(_layer_pieces(lay, calls, k))
    if plan.rest:
        sub = {n: params[n] for n in plan.rest}
        pieces.extend(per_sample_jacobian(model, sub, x, k))
    return pieces


def _output_gradients(out: Tensor, ys: list[Tensor], k: int) -> list[Tensor]:
    """``[∂(Σ_i f_a(x_i))/∂y]`` stacked over ``a`` as ``(b, k, *y.shape[1:])`` per tensor ``y``."""
    if not ys:
        return []
    per_output = []
    for a in range(k):
        g = torch.autograd.grad(out[:, a].sum(), ys, retain_graph=a < k - 1, allow_unused=True)
        per_output.append(
            [torch.zeros_like(y) if gi is None else gi for gi, y in zip(g, ys, strict=True)]
        )
    return [torch.stack([po[t] for po in per_output], dim=1).detach() for t in range(len(ys))]


def _layer_pieces(lay: Layer, calls: list[tuple[Tensor, Tensor]], k: int) -> list[Piece]:
    if lay.gram:
        ((xin, g),) = calls
        return [GramPiece(xin, g, lay.m, lay.mb)]
    b = calls[0][0].shape[0]
    jw, jb = None, None
    for xin, g in calls:
        if lay.kind == "linear":
            xs = xin.reshape(b, -1, lay.d_in)  # (b, T, d_in)
            gs = g.reshape(b, k, -1, lay.d_out)  # (b, k, T, d_out)
        else:
            xs = _patches(lay.module, xin).transpose(1, 2)  # (b, L, C_in·kh·kw)
            gs = g.reshape(b, k, lay.d_out, -1).transpose(2, 3)  # (b, k, L, C_out)
        w_part = torch.einsum("bktO,btI->bkOI", gs, xs)
        jw = w_part if jw is None else jw + w_part
        if lay.mb:
            b_part = gs.sum(2)
            jb = b_part if jb is None else jb + b_part
    pieces: list[Piece] = [JacPiece((lay.m * jw).reshape(b, k, -1))]
    if jb is not None:
        pieces.append(JacPiece(lay.mb * jb))
    return pieces


def _patches(conv: nn.Module, x: Tensor) -> Tensor:
    """``(b, C_in·∏kernel, L)`` input patches of a Conv1d/Conv2d (``F.unfold``)."""
    ks, st, dl = conv.kernel_size, conv.stride, conv.dilation
    pd = conv.padding
    if isinstance(pd, str):
        pd = (
            tuple(0 for _ in ks)
            if pd == "valid"
            else tuple(d * (kk - 1) // 2 for d, kk in zip(dl, ks, strict=True))
        )
    if isinstance(conv, nn.Conv1d):
        x, ks, st, dl, pd = x.unsqueeze(2), (1, *ks), (1, *st), (1, *dl), (0, *pd)
    return F.unfold(x, ks, dilation=dl, padding=pd, stride=st)


def _check(model, params, plan: Plan, x: Tensor, k: int) -> list[str]:
    """Layers whose feature-implied gradient ``Σ_ia v_ia J_ia`` differs from autograd's."""
    if not plan.layers:
        return []
    gen = torch.Generator(device="cpu").manual_seed(0)
    v = torch.randn(x.shape[0], k, generator=gen, dtype=x.dtype).to(x.device)
    leaves = [lay.module.weight for lay in plan.layers]
    with torch.enable_grad():
        out = model(x).reshape(x.shape[0], k)
        true = torch.autograd.grad((out * v).sum(), leaves, allow_unused=True)
    pieces = features(model, params, Plan(plan.layers, [], 0.0), x, k)
    rtol = _CHECK_RTOL.get(x.dtype, 1e-3)
    bad, pos = [], 0
    for lay, g in zip(plan.layers, true, strict=True):
        piece = pieces[pos]
        pos += 1 if lay.gram or not lay.mb else 2
        if isinstance(piece, GramPiece):
            implied = lay.m * torch.einsum("ia,iao,ij->oj", v, piece.G, piece.X)
        else:
            implied = torch.einsum("ia,iap->p", v, piece.J)
        g = torch.zeros_like(lay.module.weight) if g is None else g
        err = torch.linalg.vector_norm(implied.reshape(-1) - g.reshape(-1))
        if err > rtol * torch.linalg.vector_norm(g) + torch.finfo(x.dtype).tiny:
            bad.append(lay.name)
    for name in bad:
        log.debug(
            "structured NTK: layer %r failed the gradient check; using Jacobians for it", name
        )
    return bad

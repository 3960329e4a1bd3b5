"""Empirical neural tangent kernel of any ``nn.Module``, blocked so memory stays bounded.

.. math:: Θ(x, x')_{ac} = \\sum_p \\frac{∂f_a(x)}{∂θ_p} \\frac{∂f_c(x')}{∂θ_p}

over every parameter with ``requires_grad`` (Jacot et al. 2018). Three methods (Novak et
al. 2022, "Fast finite width neural tangent kernel"):

================  ==========================================  ==============================
``jacobian``      per-sample Jacobians, ``J(x) J(x')ᵀ``        ``O(n1 n2 k² P)``
``ntvp``          NTK-vector products (vjp, then jvp)          ``O(n1 n2 k F)``, F = fwd cost
``structured``    per-layer Gram of inputs ⊙ Gram of           ``O(n1 n2 k² Σ_l d_out,l)`` for
                  back-propagated output gradients             dense layers
================  ==========================================  ==============================

``auto`` estimates each method's FLOPs and picks the cheapest that fits the memory budget,
logging its choice at debug level on the ``gdlab`` logger. All methods walk a grid of
(row block, column block) pairs; with ``x2`` omitted (or ``x2 is x1``) only the upper
triangle is computed and mirrored.
"""

from __future__ import annotations

import logging
import math
import weakref

import torch
from torch import Tensor, nn

from gdlab.probes import _ntk_blocks as blocks
from gdlab.probes import _ntk_structured as structured
from gdlab.probes._ntk_jacobian import ntvp_block, per_sample_jacobian

log = logging.getLogger(__name__)

METHODS = ("auto", "jacobian", "ntvp", "structured")

MEMORY_BUDGET_BYTES = 2 * 2**30
"""Working memory (besides the returned kernel) that block sizes are chosen to respect:
2 GiB, a twelfth of the 24 GiB machines this runs on, so several jobs fit side by side."""

_MAX_SYMMETRIC_BLOCKS = 8
"""With ``x2 = x1`` the samples are split into up to this many blocks (never shorter than
`_MIN_GEMM_ROWS` GEMM rows), so that the mirrored lower triangle is skipped: B blocks compute
B(B+1)/2 of B² block pairs. Measured (bench/RESULTS.md, MLP width 2048, 10 outputs): n = 256
in 2 blocks 15% faster than in one, n = 1024 in 8 blocks 6% faster than in 4."""

_JACOBIAN_OVERHEAD = 2
"""Peak memory of the Jacobian paths per byte of the two Jacobian blocks held, measured: blocks
of 239 samples of a 559k-parameter MLP (two 0.53 GB blocks) peaked at 1.85 GB RSS (building
one block peaks at 1.3× its size)."""

_MIN_GEMM_ROWS = 1024
"""The symmetric cap never makes a block's GEMMs shorter than this many rows (``block · k``):
below it the per-block overhead (hooks, backward passes, small GEMMs) outweighs the saved
lower triangle (measured: n = 256, k = 1 ran ~1.5× slower in 4 blocks than in one)."""


def empirical_ntk(
    model: nn.Module,
    x1: Tensor,
    x2: Tensor | None = None,
    *,
    method: str = "auto",
    trace: bool = False,
    block_size: int | None = None,
) -> Tensor:
    """Empirical NTK of ``model`` between ``x1`` and ``x2``.

    Args:
        model: any module mapping a batch ``(n, ...)`` to ``(n, ...)`` outputs, samples
            independently (no batch statistics). Parameters with ``requires_grad`` count.
        x1: ``(n1, ...)`` inputs.
        x2: ``(n2, ...)`` inputs; ``None`` means ``x1`` (and the symmetric fast path).
        method: ``auto | jacobian | ntvp | structured``.
        trace: sum over the output pair ``a = c`` (returns ``(n1, n2)``).
        block_size: samples per row/column block; ``None`` picks it from
            `MEMORY_BUDGET_BYTES`.

    Returns:
        ``(n1, n2)`` for a scalar output per sample (``k = 1``) or with ``trace``, else
        ``(n1, n2, k, k)`` with ``k`` the number of output entries per sample (outputs are
        flattened). dtype and device of the model's output.

    Raises:
        ValueError: unknown method, mismatched inputs, a model without trainable
            parameters, or a non-positive ``block_size``.

    Example:
        >>> lin = nn.Linear(3, 1).double()
        >>> x = torch.randn(4, 3, dtype=torch.float64)
        >>> k = empirical_ntk(lin, x, method="structured")
        >>> torch.allclose(k, x @ x.T + 1)   # ∂f/∂W = x, ∂f/∂b = 1
        True
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if block_size is not None and block_size < 1:
        raise ValueError(f"block_size must be ≥ 1, got {block_size}")
    symmetric = x2 is None or x2 is x1
    x2 = x1 if x2 is None else x2
    _validate_inputs(x1, x2)
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    if not params:
        raise ValueError("the model has no parameters with requires_grad=True")
    with torch.no_grad():
        probe = model(x1[:2])
    k = probe[0].numel() if probe.ndim > 1 else 1
    n1, n2 = x1.shape[0], x2.shape[0]
    itemsize = probe.element_size()
    traced = trace or k == 1  # one output: the traced kernel is the kernel
    plan = _cached_plan(model, params, x1, k)
    if method == "auto":
        method = _choose(plan, params, n1, n2, k, trace, symmetric, itemsize)
    p_total = sum(p.numel() for p in params.values())
    bs = block_size or _block_size(method, plan, p_total, n1, n2, k, symmetric, itemsize)
    out = torch.empty(
        (n1, n2) if traced else (n1, n2, k, k), dtype=probe.dtype, device=probe.device
    )
    featurize, featurize_row, contract = _method_fns(
        method, model, params, plan, k, traced, bs, itemsize
    )
    cache = n2 * _feature_bytes(method, plan, p_total, k, itemsize) <= MEMORY_BUDGET_BYTES / 2
    # No outer autograd graph: `out[rs, cs] = block` would otherwise record every block's
    # history (through the parameters) and keep all Jacobians alive. The torch.func
    # transforms and the structured backward passes differentiate inside regardless.
    with torch.no_grad():
        return blocks.assemble(
            out,
            x1,
            x2,
            symmetric=symmetric,
            row_block=bs,
            col_block=bs,
            featurize_row=featurize_row,
            featurize_col=featurize,
            contract_fn=contract,
            trace=traced,
            cache_cols=cache,
        )


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached_plan(model: nn.Module, params: dict, x1: Tensor, k: int) -> structured.Plan:
    """The structured plan (one probe forward and a gradient check), cached per model.

    The plan depends on the model's structure, not on parameter values, so repeated calls
    (an NTK tracked along training) reuse it; any change of parameters' identity or shape,
    of input shape, dtype or device makes a new one.
    """
    key = (
        tuple((n, id(p), tuple(p.shape), p.dtype, p.device) for n, p in params.items()),
        tuple(x1.shape[1:]),
        x1.dtype,
        x1.device,
        k,
    )
    hit = _PLANS.get(model)
    if hit is not None and hit[0] == key:
        return hit[1]
    plan = structured.make_plan(model, params, x1[:2], k)
    for note in plan.notes:
        log.debug("empirical_ntk: %s", note)
    _PLANS[model] = (key, plan)
    return plan


def _validate_inputs(x1: Tensor, x2: Tensor) -> None:
    if not isinstance(x1, Tensor) or not isinstance(x2, Tensor):
        raise ValueError("x1 and x2 must be tensors")
    if x1.ndim < 1 or x1.shape[0] == 0 or x2.shape[0] == 0:
        raise ValueError(
            f"inputs must be non-empty batches, got {tuple(x1.shape)} and {tuple(x2.shape)}"
        )
    if x1.shape[1:] != x2.shape[1:]:
        raise ValueError(
            f"x1 and x2 differ beyond the batch axis: {tuple(x1.shape)} vs {tuple(x2.shape)}"
        )
    if x1.dtype != x2.dtype or x1.device != x2.device:
        raise ValueError("x1 and x2 must share dtype and device")


def _method_fns(method, model, params, plan, k, trace, bs, itemsize):
    """``(featurize, featurize_row, contract)`` for the driver."""

    def contract(f1, f2):
        return blocks.contract(f1, f2, trace=trace)

    if method == "structured":

        def featurize(x):
            return structured.features(model, params, plan, x, k)

        return featurize, featurize, contract
    if method == "jacobian":

        def featurize(x):
            return per_sample_jacobian(model, params, x, k)

        return featurize, featurize, contract
    # ntvp: rows stay raw inputs, columns become Jacobian rows (the tangents). A vmapped jvp
    # over `chunk` tangents holds chunk × rows × (activations + tangents) and the tangents.
    act = sum(lay.d_out * lay.positions for lay in plan.layers) + plan.rest_numel
    p_total = sum(p.numel() for p in params.values())
    per_tangent = (4 * bs * max(act, 1) + p_total) * itemsize
    chunk = max(1, int(MEMORY_BUDGET_BYTES // 2 // per_tangent))

    def featurize(x):
        return per_sample_jacobian(model, params, x, k)

    def featurize_row(x):
        return x

    def contract_ntvp(x_rows, cols):
        return ntvp_block(model, params, x_rows, cols, k, trace=trace, chunk=chunk)

    return featurize, featurize_row, contract_ntvp


def _feature_bytes(method, plan, p_total, k, itemsize) -> float:
    """Bytes of features per sample."""
    if method == "structured":
        gram = sum((lay.d_in + k * lay.d_out) for lay in plan.layers if lay.gram)
        jac = sum(k * (lay.d_in + 1) * lay.d_out for lay in plan.layers if not lay.gram)
        return (gram + jac + k * plan.rest_numel) * itemsize
    return k * p_total * itemsize


def _block_size(method, plan, p_total, n1, n2, k, symmetric, itemsize) -> int:
    per_sample = 2 * _feature_bytes(method, plan, p_total, k, itemsize)  # row + column block
    if method in ("jacobian", "ntvp"):
        per_sample *= _JACOBIAN_OVERHEAD
    per_pair = 3 * k * k * itemsize  # GEMM result, the accumulator, the write-out
    if method == "structured":
        # autograd keeps each layer's activations for the k backward passes
        per_sample += 3 * sum(lay.d_out * lay.positions for lay in plan.layers) * itemsize
    if method == "ntvp":
        per_sample /= 2  # only the column block holds Jacobian rows; the jvp is chunked
    bs = blocks.block_for_budget(per_sample, per_pair, MEMORY_BUDGET_BYTES, max(n1, n2))
    n_blocks = min(_MAX_SYMMETRIC_BLOCKS, n1 // math.ceil(_MIN_GEMM_ROWS / k))
    if symmetric and n_blocks >= 2:
        bs = min(bs, math.ceil(n1 / n_blocks))
    return bs


def estimate_flops(method, plan, p_total, n1, n2, k, trace, symmetric) -> float:
    """Rough FLOP count of one call (the ratios between methods are what matters)."""
    pairs = n1 * n2 * (0.5 if symmetric else 1.0)
    kk = k if trace else k * k
    fwd = plan.fwd_flops if plan is not None else 2.0 * p_total
    n_feat = n1 + (0 if symmetric else n2)
    if method == "jacobian":
        return n_feat * 3 * k * fwd + 2 * pairs * kk * p_total
    if method == "ntvp":
        return n2 * 3 * k * fwd + pairs * 3 * k * fwd
    total = n_feat * (1 + 2 * k) * fwd
    for lay in plan.layers:
        if lay.gram:
            total += pairs * (2 * kk * lay.d_out + 2 * lay.d_in + 2 * kk)
        else:
            total += n_feat * 2 * k * lay.flops + 2 * pairs * kk * (lay.d_in + 1) * lay.d_out
    if plan.rest:
        total += n_feat * 3 * k * fwd + 2 * pairs * kk * plan.rest_numel
    return total


def _choose(plan, params, n1, n2, k, trace, symmetric, itemsize) -> str:
    p_total = sum(p.numel() for p in params.values())
    costs = {
        m: estimate_flops(m, plan, p_total, n1, n2, k, trace, symmetric)
        for m in ("jacobian", "ntvp", "structured")
    }
    # ntvp cannot trace cheaply (it computes all k×k entries), so trace does not help it.
    best = min(costs, key=costs.get)
    log.debug(
        "empirical_ntk(auto): picked %s; estimated FLOPs %s",
        best,
        ", ".join(f"{m}={c:.3g}" for m, c in costs.items()),
    )
    return best

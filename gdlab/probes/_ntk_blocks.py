"""Blocked assembly of an empirical NTK from per-sample features.

Every method of `gdlab.probes.empirical_ntk` reduces to the same pattern: turn a block of
inputs into *features* (Jacobian rows, or per-layer input/gradient pairs), then contract the
features of a row block with those of a column block. This module holds the two feature
kinds, their contraction, and the driver that walks the ``(row block, column block)`` grid
with bounded memory, computing only the upper triangle when ``x2`` is ``x1``.

Shapes: ``b`` samples in a block, ``k`` outputs, ``P_l`` parameters of a group.
The accumulator of a block pair is ``(b1, k, b2, k)`` (or ``(b1, b2)`` with ``trace``);
it is permuted to the public ``(b1, b2, k, k)`` layout only when written out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class JacPiece:
    """Per-sample Jacobian rows of one parameter group: ``J: (b, k, P_l)``.

    Contribution to the kernel: ``Θ[i, j, a, c] += <J[i, a], J[j, c]>``.
    """

    J: Tensor


@dataclass(frozen=True)
class GramPiece:
    """A dense layer seen once per sample: inputs ``X: (b, d_in)``, output gradients
    ``G: (b, k, d_out)`` with ``G[i, a] = ∂f_a(x_i)/∂y_l(x_i)``.

    For ``y = m · x Wᵀ + m_b · b`` the weight Jacobian is ``m · G ⊗ X`` and the bias Jacobian
    ``m_b · G``, so the layer's contribution is

    .. math:: Θ_l[i, j, a, c] = (G_{ia} · G_{jc}) (m² X_i · X_j + m_b²)

    (``m_b = 0`` without a bias). Cost ``O(b1 b2 (k² d_out + d_in))``, never ``O(P_l)``.
    """

    X: Tensor
    G: Tensor
    m: float
    mb: float


Piece = JacPiece | GramPiece


def contract(f1: Sequence[Piece], f2: Sequence[Piece], *, trace: bool) -> Tensor:
    """Sum of all pieces' contributions for one block pair.

    Args:
        f1, f2: features of the row and column block, piece by piece (same structure).
        trace: sum over the output pair ``a = c`` instead of keeping it.

    Returns:
        ``(b1, k, b2, k)``, or ``(b1, b2)`` with ``trace``.
    """
    if not f1:
        raise ValueError("the model has no parameters to differentiate")
    acc: Tensor | None = None
    for p1, p2 in zip(f1, f2, strict=True):
        acc = _accumulate(acc, p1, p2, trace=trace)
    return acc


def _accumulate(acc: Tensor | None, p1: Piece, p2: Piece, *, trace: bool) -> Tensor:
    """``acc + contribution(p1, p2)``, in place when ``acc`` exists (one fused pass for Grams)."""
    if isinstance(p1, JacPiece):
        b1, k, _ = p1.J.shape
        b2 = p2.J.shape[0]
        if trace:  # Σ_a <J1[i,a], J2[j,a]> is one GEMM over the flattened (a, p) axis
            a1, a2, shape = p1.J.reshape(b1, -1), p2.J.reshape(b2, -1), (b1, b2)
        else:
            a1, a2, shape = p1.J.reshape(b1 * k, -1), p2.J.reshape(b2 * k, -1), (b1, k, b2, k)
        if acc is None:
            return (a1 @ a2.T).view(shape)
        return acc.view(a1.shape[0], a2.shape[0]).addmm_(a1, a2.T).view(shape)
    b1, k, _ = p1.G.shape
    b2 = p2.G.shape[0]
    scale = p1.X @ p2.X.T  # (b1, b2): m² X1·X2 + m_b²
    if p1.m != 1.0:
        scale.mul_(p1.m * p1.m)
    if p1.mb:
        scale.add_(p1.mb * p1.mb)
    if trace:
        gg = p1.G.reshape(b1, -1) @ p2.G.reshape(b2, -1).T  # Σ_a G1[i,a]·G2[j,a]
    else:
        gg = (p1.G.reshape(b1 * k, -1) @ p2.G.reshape(b2 * k, -1).T).view(b1, k, b2, k)
        scale = scale[:, None, :, None]
    return gg.mul_(scale) if acc is None else acc.addcmul_(gg, scale)


def to_public(block: Tensor, *, trace: bool) -> Tensor:
    """``(b1, k, b2, k) -> (b1, b2, k, k)`` (a view); trace blocks are returned as they are."""
    return block if trace else block.permute(0, 2, 1, 3)


def slices(n: int, size: int) -> list[slice]:
    """Consecutive slices of at most ``size`` covering ``range(n)``."""
    size = max(1, int(size))
    return [slice(s, min(s + size, n)) for s in range(0, n, size)]


Featurize = Callable[[Tensor], object]
Contract = Callable[[object, object], Tensor]


def assemble(
    out: Tensor,
    x1: Tensor,
    x2: Tensor,
    *,
    symmetric: bool,
    row_block: int,
    col_block: int,
    featurize_row: Featurize,
    featurize_col: Featurize,
    contract_fn: Contract,
    trace: bool,
    cache_cols: bool,
) -> Tensor:
    """Fill ``out`` block by block.

    Args:
        out: ``(n1, n2)`` or ``(n1, n2, k, k)`` to write into.
        x1, x2: inputs ``(n1, ...)``, ``(n2, ...)``; ``x2`` is ``x1`` when ``symmetric``.
        symmetric: compute only blocks ``j ≥ i`` and mirror them, using
            ``Θ(x_j, x_i)_{ca} = Θ(x_i, x_j)_{ac}``; rows and columns then share one blocking.
        row_block, col_block: samples per block (equal when ``symmetric``).
        featurize_row, featurize_col: block of inputs -> features (the same function for
            symmetric methods; ntvp's row features are the raw inputs).
        contract_fn: ``(row features, column features) -> (b1, k, b2, k) | (b1, b2)``.
        trace: whether blocks come traced.
        cache_cols: keep every column block's features (when they fit the memory budget)
            instead of recomputing them for each row block.

    Returns:
        ``out``.
    """
    n1, n2 = x1.shape[0], x2.shape[0]
    if symmetric:
        col_block = row_block
    rows, cols = slices(n1, row_block), slices(n2, col_block)
    cache: dict[int, object] = {}

    def col_features(j: int) -> object:
        if j in cache:
            return cache[j]
        feats = featurize_col(x2[cols[j]])
        if cache_cols:
            cache[j] = feats
        return feats

    for i, rs in enumerate(rows):
        if symmetric and featurize_row is featurize_col:
            f1 = col_features(i)
        else:
            f1 = featurize_row(x1[rs])
        for j, cs in enumerate(cols):
            if symmetric and j < i:
                continue
            f2 = (
                f1 if (symmetric and j == i and featurize_row is featurize_col) else col_features(j)
            )
            block = contract_fn(f1, f2)
            if symmetric and j == i:  # make the returned kernel exactly symmetric
                block = 0.5 * (block + (block.T if trace else block.permute(2, 3, 0, 1)))
            out[rs, cs] = to_public(block, trace=trace)
            if symmetric and j != i:
                # out[j, i, c, a] = block[i, a, j, c]
                out[cs, rs] = block.T if trace else block.permute(2, 0, 3, 1)
        if symmetric:
            cache.pop(i, None)  # row i is never needed again once its blocks j ≥ i are done
    return out


def block_for_budget(per_sample: float, pair_per_sample2: float, budget: float, n: int) -> int:
    """Largest block ``b ≤ n`` with ``b·per_sample + b²·pair_per_sample2 ≤ budget`` (≥ 1)."""
    if pair_per_sample2 > 0:
        disc = per_sample**2 + 4 * pair_per_sample2 * budget
        b = (-per_sample + math.sqrt(disc)) / (2 * pair_per_sample2)
    else:
        b = budget / max(per_sample, 1.0)
    return int(max(1, min(n, math.floor(b))))

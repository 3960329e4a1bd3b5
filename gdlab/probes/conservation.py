"""Quantities conserved by gradient flow: layer balancedness and per-neuron balance.

Du, Hu & Lee (NeurIPS 2018), Thm 2.1-2.2: for a network that is positively homogeneous in
each layer (linear, or ReLU without saturation), gradient flow on *any* loss conserves

* in a deep linear net ``W_L ⋯ W_1``: ``W_{l+1}ᵀ W_{l+1} − W_l W_lᵀ`` for every ``l``;
* in a two-layer ReLU net ``Σ_j a_j relu(w_jᵀx + b_j)``: ``‖w_j‖² + b_j² − a_j²`` per neuron.

Gradient descent with step ``η`` breaks them at second order: for deep linear nets one step
changes ``W_{l+1}ᵀW_{l+1} − W_lW_lᵀ`` by exactly ``η²(G_{l+1}ᵀG_{l+1} − G_lG_lᵀ)`` (``G`` the
gradients), so over a fixed flow time the drift is ``O(η)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor


def layer_balancedness(weights: Sequence[Tensor]) -> list[Tensor]:
    """``[W_{l+1}ᵀ W_{l+1} − W_l W_lᵀ for l = 1..L−1]`` for weights ``W_l: (d_l, d_{l−1})``.

    Each entry is ``(d_l, d_l)``; all are conserved by gradient flow in a deep linear net.
    """
    if len(weights) < 2:
        raise ValueError("need at least two layers")
    out = []
    for w_lo, w_hi in zip(weights[:-1], weights[1:], strict=True):
        if w_hi.shape[1] != w_lo.shape[0]:
            raise ValueError(f"layer shapes do not chain: {tuple(w_lo.shape)} then {tuple(w_hi.shape)}")
        out.append(w_hi.T @ w_hi - w_lo @ w_lo.T)
    return out


def neuron_balance(w_in: Tensor, a_out: Tensor, b_in: Tensor | None = None) -> Tensor:
    """``‖w_j‖² + b_j² − Σ_k a_{kj}²`` per hidden neuron ``j`` of a two-layer net.

    Args:
        w_in: ``(h, d)`` incoming weights; a_out: ``(k, h)`` outgoing weights;
        b_in: ``(h,)`` incoming biases or ``None``.

    Returns:
        ``(h,)``, conserved under gradient flow for ReLU (any 1-homogeneous) activations.
    """
    c = w_in.pow(2).sum(1) - a_out.pow(2).sum(0)
    if b_in is not None:
        c = c + b_in.pow(2)
    return c


def relative_drift(now: Sequence[Tensor] | Tensor, start: Sequence[Tensor] | Tensor) -> float:
    """``max_l ‖Q_l(t) − Q_l(0)‖_F / ‖Q_l(0)‖_F`` over the conserved tensors ``Q_l``."""
    if isinstance(now, Tensor):
        now, start = [now], [start]  # type: ignore[list-item]
    return max(float((a - b).norm() / b.norm()) for a, b in zip(now, start, strict=True))

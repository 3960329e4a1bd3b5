"""One-layer linear self-attention (LSA) on in-context regression prompts.

Following von Oswald et al. (2023), Ahn et al. (2023) and Zhang, Frei & Bartlett (2023): a
prompt is embedded as

.. math:: Z = \\begin{pmatrix} x_1 & \\cdots & x_N & x_q \\\\ y_1 & \\cdots & y_N & 0
          \\end{pmatrix} ∈ ℝ^{(d+1)×(N+1)},

and one linear attention layer with a residual connection maps it to
``Z + (1/N) W^{PV} Z M Zᵀ W^{KQ} Z`` where ``M = diag(I_N, 0)`` keeps the query out of the
keys. The prediction is the bottom-right entry, the layer's output at the query's label slot:

.. math:: ŷ = \\frac1N \\big[W^{PV} \\big(\\textstyle\\sum_{i ≤ N} z_i z_i^⊤\\big) W^{KQ} z_q\\big]_{d+1},
          \\quad z_i = (x_i, y_i),\\; z_q = (x_q, 0).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class LinearSelfAttention(nn.Module):
    """A single linear self-attention layer with full ``(d+1)×(d+1)`` ``W^{PV}``, ``W^{KQ}``.

    Args:
        d: input dimension.
        init_std: entries of both matrices start ``N(0, init_std²)``.
        generator: RNG for the initialization.

    Shapes: ``forward(x (B, N, d), y (B, N), x_query (B, d)) -> (B,)``.
    """

    def __init__(self, d: int, *, init_std: float = 0.01, generator: torch.Generator | None = None):
        super().__init__()
        if d <= 0:
            raise ValueError("d must be positive")
        self.d = d
        self.w_pv = nn.Parameter(torch.randn(d + 1, d + 1, generator=generator) * init_std)
        self.w_kq = nn.Parameter(torch.randn(d + 1, d + 1, generator=generator) * init_std)

    def forward(self, x: Tensor, y: Tensor, x_query: Tensor) -> Tensor:
        n = x.shape[1]
        z = torch.cat([x, y.unsqueeze(-1)], dim=-1)  # (B, N, d+1)
        zq = torch.cat([x_query, torch.zeros_like(x_query[:, :1])], dim=-1)  # (B, d+1)
        gram = torch.bmm(z.transpose(1, 2), z) / n  # (B, d+1, d+1): (1/N) Σ z_i z_iᵀ
        keys = zq @ self.w_kq.T  # (B, d+1): W^{KQ} z_q
        values = torch.bmm(gram, keys.unsqueeze(-1)).squeeze(-1)  # (B, d+1)
        return values @ self.w_pv[-1]  # (B,): last row of W^{PV} picks the label slot

    def effective_preconditioner(self) -> Tensor:
        """``Γ̂⁻¹`` read off the weights: ŷ = x_qᵀ Γ̂⁻¹ (1/N)Σ y_i x_i when the other blocks vanish.

        For the sparse global minimizer only ``W^{PV}_{d+1,d+1}`` and ``W^{KQ}_{1:d,1:d}`` are
        nonzero, and ``ŷ = W^{PV}_{d+1,d+1} · (1/N)Σ y_i x_iᵀ W^{KQ}_{1:d,1:d} x_q``.
        """
        d = self.d
        return (self.w_pv[d, d] * self.w_kq[:d, :d]).T.detach()

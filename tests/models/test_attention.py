import torch

from gdlab.models import LinearSelfAttention


def test_lsa_equals_explicit_attention_formula():
    """ŷ = bottom-right entry of Z + (1/N) W^{PV} Z M Zᵀ W^{KQ} Z (von Oswald et al. 2023)."""
    g = torch.Generator().manual_seed(0)
    d, n, b = 3, 5, 4
    m = LinearSelfAttention(d, init_std=0.5, generator=g).double()
    x = torch.randn(b, n, d, generator=g, dtype=torch.float64)
    y = torch.randn(b, n, generator=g, dtype=torch.float64)
    xq = torch.randn(b, d, generator=g, dtype=torch.float64)
    out = m(x, y, xq)
    mask = torch.diag(torch.tensor([1.0] * n + [0.0], dtype=torch.float64))
    for i in range(b):
        z = torch.zeros(d + 1, n + 1, dtype=torch.float64)
        z[:d, :n], z[d, :n], z[:d, n] = x[i].T, y[i], xq[i]
        full = z + m.w_pv @ z @ mask @ z.T @ m.w_kq @ z / n
        assert torch.allclose(out[i], full[d, n], rtol=1e-12)

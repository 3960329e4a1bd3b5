"""Property tests: the empirical NTK is symmetric and positive semi-definite."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlab.models import MLP
from gdlab.probes import empirical_ntk

PSD_TOL = (
    1e-10  # float64 eigenvalues of a Gram matrix can dip below 0 by rounding, relative to λ_max
)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 7),
    widths=st.lists(st.integers(1, 9), min_size=0, max_size=3),
    out_dim=st.integers(1, 3),
    activation=st.sampled_from(["relu", "tanh", "gelu", "identity"]),
    parametrization=st.sampled_from(["sp", "ntk"]),
    method=st.sampled_from(["structured", "jacobian", "ntvp"]),
    block=st.sampled_from([None, 1, 2]),
)
def test_empirical_ntk_is_symmetric_psd(
    seed, n, widths, out_dim, activation, parametrization, method, block
):
    g = torch.Generator().manual_seed(seed)
    model = MLP(
        3,
        tuple(widths),
        out_dim,
        activation=activation,
        parametrization=parametrization,
        b_std=0.2,
        generator=g,
    ).double()
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    k = empirical_ntk(model, x, method=method, block_size=block)
    mat = k if k.ndim == 2 else k.permute(0, 2, 1, 3).reshape(n * out_dim, n * out_dim)
    assert torch.equal(mat, mat.T)
    lam = torch.linalg.eigvalsh(mat)
    assert lam[0] >= -PSD_TOL * max(lam[-1].item(), 1.0)
    # The traced kernel of a PSD block kernel is PSD too.
    kt = empirical_ntk(model, x, method=method, trace=True, block_size=block)
    assert torch.linalg.eigvalsh(kt)[0] >= -PSD_TOL * max(kt.diagonal().sum().item(), 1.0)

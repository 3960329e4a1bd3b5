"""The GGN (JᵀJ/n) and the NTK (JJᵀ) share their nonzero spectrum under MSE."""

import pytest
import torch

from gdlab.probes.curvature import (
    ggn_eigenvector_from_ntk,
    ggn_operator,
    lanczos_eigsh,
    mse_ggn_eigenvalues,
    ntk_operator,
)
from gdlab.testing import TOL, assert_close, reference

MSE_CASES = ["mlp-tanh-mse", "ntk-softplus-mse", "layernorm-gelu-mse"]


@pytest.mark.parametrize("name", MSE_CASES)
def test_ntk_operator_equals_dense_ntk(case_factory, name):
    case = case_factory(name)
    f, p = case.fn_params()
    dense = reference.ntk(f, p, case.x)  # (n, n, k, k)
    n, _, k, _ = dense.shape
    want = dense.permute(0, 2, 1, 3).reshape(n * k, n * k)
    assert_close(ntk_operator(case.model, case.x).to_dense(), want, **TOL[torch.float64])


@pytest.mark.parametrize("name", MSE_CASES)
def test_dense_ggn_and_ntk_share_nonzero_spectrum(case_factory, name):
    case = case_factory(name)
    n = case.x.shape[0]
    ggn = torch.linalg.eigvalsh(case.dense_ggn()).flip(0)
    via_ntk = mse_ggn_eigenvalues(case.model, case.x)
    r = min(ggn.numel(), via_ntk.numel())
    # Beyond the rank both are zero (to rounding).
    assert_close(via_ntk[:r], ggn[:r], rtol=1e-9, atol=1e-12 * float(ggn[0]))
    tail = ggn[r:] if ggn.numel() > r else via_ntk[r:]
    assert tail.abs().max() < 1e-10 * float(ggn[0])
    assert n * float(via_ntk[0]) == pytest.approx(float(torch.linalg.eigvalsh(
        ntk_operator(case.model, case.x).to_dense())[-1]), rel=1e-10)


def test_lanczos_on_either_side_agrees(case_factory):
    case = case_factory("mlp-tanh-mse", seed=3)
    top_ntk = mse_ggn_eigenvalues(case.model, case.x, 4, generator=torch.Generator().manual_seed(0))
    g = ggn_operator(case.model, case.loss_fn, case.x, case.y)
    top_ggn = lanczos_eigsh(g, 4, generator=torch.Generator().manual_seed(0)).eigenvalues
    assert_close(top_ntk, top_ggn, rtol=1e-6)


def test_ntk_eigenvector_maps_to_ggn_eigenvector(case_factory):
    case = case_factory("ntk-softplus-mse")
    ntk = ntk_operator(case.model, case.x).to_dense()
    vals, vecs = torch.linalg.eigh(ntk)
    v = ggn_eigenvector_from_ntk(case.model, case.x, vecs[:, -1])
    G = case.dense_ggn()
    lam = float(vals[-1]) / case.x.shape[0]
    assert_close(G @ v, lam * v, rtol=1e-8, atol=1e-10 * lam)

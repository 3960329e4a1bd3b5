"""Lanczos eigenpairs against torch.linalg.eigh of the dense curvature (float64)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlab.probes.curvature import (
    LinearOperator,
    hessian_operator,
    lanczos_eigsh,
    top_eigenvalues,
)

EIG_RTOL = 1e-6
"""The issue's bar: top eigenvalues equal to eigvalsh of the dense Hessian to 1e-6 (float64)."""


def _rel(a, b):
    return ((a - b).abs() / b.abs()).max().item()


@pytest.mark.parametrize("k", [1, 3])
def test_top_hessian_eigenvalues_match_eigvalsh(case, k):
    want = torch.linalg.eigvalsh(case.dense_hessian()).flip(0)[:k]
    got = top_eigenvalues(case.model, case.loss_fn, case.x, case.y, k, params=case.params,
                          generator=torch.Generator().manual_seed(0))
    assert got.dtype == torch.float64 and got.shape == (k,)
    assert _rel(got, want) < EIG_RTOL, (got, want)


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("name", ["mlp-relu-ce", "mlp-tanh-mse", "cnn-ce"])
def test_unseen_models_top5_hessian_and_ggn(case_factory, name, seed):
    case = case_factory(name, seed)
    for curvature, dense in (("hessian", case.dense_hessian), ("ggn", case.dense_ggn)):
        want = torch.linalg.eigvalsh(dense()).flip(0)[:5]
        got = top_eigenvalues(case.model, case.loss_fn, case.x, case.y, 5, curvature=curvature,
                              params=case.params, generator=torch.Generator().manual_seed(seed))
        assert _rel(got, want) < EIG_RTOL, (curvature, got, want)


def test_eigenvectors_are_eigenvectors(case):
    H = case.dense_hessian()
    vals, vecs = top_eigenvalues(case.model, case.loss_fn, case.x, case.y, 2, params=case.params,
                                 return_eigenvectors=True)
    assert vecs.shape == (H.shape[0], 2)
    resid = torch.linalg.vector_norm(H @ vecs - vecs * vals, dim=0)
    # Eigenvectors converge as the square root of the eigenvalues: residual ~ √tol · λ.
    assert (resid < 1e-3 * vals[0].abs()).all(), resid
    assert torch.allclose(vecs.T @ vecs, torch.eye(2, dtype=vecs.dtype), atol=1e-8)


def test_warm_start_needs_fewer_products(case_factory):
    case = case_factory("mlp-tanh-mse")
    op = hessian_operator(case.model, case.loss_fn, case.x, case.y)
    cold = lanczos_eigsh(op, 1, return_eigenvectors=True, generator=torch.Generator().manual_seed(0))
    # A nearby point: the previous eigenvector is a good start.
    with torch.no_grad():
        for p in case.model.parameters():
            p.add_(1e-3 * torch.randn_like(p))
    op2 = hessian_operator(case.model, case.loss_fn, case.x, case.y)
    cold2 = lanczos_eigsh(op2, 1, generator=torch.Generator().manual_seed(0))
    warm2 = lanczos_eigsh(op2, 1, v0=cold.eigenvectors[:, 0])
    assert abs(warm2.eigenvalues[0] - cold2.eigenvalues[0]) < EIG_RTOL * cold2.eigenvalues[0].abs()
    assert warm2.num_matvecs < cold2.num_matvecs, (warm2.num_matvecs, cold2.num_matvecs)


def test_smallest_algebraic_and_negative_spectrum():
    g = torch.Generator().manual_seed(3)
    Q, _ = torch.linalg.qr(torch.randn(60, 60, generator=g, dtype=torch.float64))
    lam = torch.linspace(-5.0, 2.0, 60, dtype=torch.float64)
    A = Q @ torch.diag(lam) @ Q.T
    la = lanczos_eigsh(LinearOperator.from_dense(A), 3, which="LA", generator=g).eigenvalues
    sa = lanczos_eigsh(LinearOperator.from_dense(A), 3, which="SA", generator=g).eigenvalues
    assert torch.allclose(la, lam.flip(0)[:3], rtol=EIG_RTOL)
    assert torch.allclose(sa, lam[:3], rtol=EIG_RTOL)


def test_repeated_eigenvalues_need_restarts():
    # A Krylov space from one vector sees each distinct eigenvalue once; repeated ones are
    # found only after breakdown and a restart orthogonal to the basis.
    g = torch.Generator().manual_seed(4)
    Q, _ = torch.linalg.qr(torch.randn(30, 30, generator=g, dtype=torch.float64))
    lam = torch.tensor([3.0] * 3 + [1.0] * 27, dtype=torch.float64)
    A = Q @ torch.diag(lam) @ Q.T
    res = lanczos_eigsh(LinearOperator.from_dense(A), 4, generator=g)
    assert torch.allclose(res.eigenvalues, torch.tensor([3.0, 3.0, 3.0, 1.0], dtype=torch.float64))
    assert res.converged


@settings(max_examples=25, deadline=None)
@given(size=st.integers(2, 40), k=st.integers(1, 5), seed=st.integers(0, 2**31 - 1))
def test_random_symmetric_matrices(size, k, seed):
    k = min(k, size)
    g = torch.Generator().manual_seed(seed)
    B = torch.randn(size, size, generator=g, dtype=torch.float64)
    A = B + B.T
    want = torch.linalg.eigvalsh(A).flip(0)[:k]
    res = lanczos_eigsh(LinearOperator.from_dense(A), k, generator=g, return_eigenvectors=True)
    # Relative per eigenvalue, with the precision floor for eigenvalues near zero.
    scale = torch.linalg.eigvalsh(A).abs().max()
    allowed = torch.clamp(EIG_RTOL * want.abs(), min=1e-12 * scale)
    assert ((res.eigenvalues - want).abs() <= allowed).all(), (res.eigenvalues, want)
    assert res.num_matvecs <= size


def test_float32_operator(case_factory):
    case = case_factory("mlp-relu-ce")
    want = torch.linalg.eigvalsh(case.dense_hessian()).flip(0)[:2]
    net = case.model.float()
    got = top_eigenvalues(net, case.loss_fn, case.x.float(), case.y, 2)
    assert got.dtype == torch.float32
    assert _rel(got.double(), want) < 1e-4


def test_not_converged_warns_and_bad_arguments_raise(case_factory):
    case = case_factory("mlp-tanh-mse")
    with pytest.warns(RuntimeWarning, match="without reaching"):
        top_eigenvalues(case.model, case.loss_fn, case.x, case.y, 3, max_steps=3, tol=0.0)
    op = hessian_operator(case.model, case.loss_fn, case.x, case.y)
    with pytest.raises(ValueError, match="k must"):
        lanczos_eigsh(op, 0)
    with pytest.raises(ValueError, match="which"):
        lanczos_eigsh(op, 1, which="LM")
    with pytest.raises(ValueError, match="v0"):
        lanczos_eigsh(op, 1, v0=torch.zeros(op.size, dtype=torch.float64))
    with pytest.raises(ValueError, match="curvature"):
        top_eigenvalues(case.model, case.loss_fn, case.x, case.y, curvature="fisher")

"""Trace estimators: unbiasedness, convergence with a product budget, Hutch++ vs Hutchinson."""

import math

import pytest
import torch

from gdlab.probes.curvature import (
    LinearOperator,
    ggn_trace,
    hessian_operator,
    hessian_trace,
    hutchinson,
    hutchpp,
)
from gdlab.testing import TOL


def _decaying(size=200, power=2.0, seed=0):
    """PSD ``Q diag(1/i^power) Qᵀ``: the decaying spectrum Hutch++ is built for."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(size, size, generator=g, dtype=torch.float64))
    lam = 1.0 / torch.arange(1, size + 1, dtype=torch.float64) ** power
    return Q @ torch.diag(lam) @ Q.T


def _rms_error(method, A, budget, reps=25):
    exact = float(torch.trace(A))
    g = torch.Generator().manual_seed(123)
    errs = [method(LinearOperator.from_dense(A), budget, generator=g).trace - exact for _ in range(reps)]
    return math.sqrt(sum(e * e for e in errs) / reps) / abs(exact)


def test_hutchinson_converges_at_its_predicted_rate(case):
    # Rademacher variance of one probe: 2(‖A‖_F² − Σ A_ii²); m probes: error ≤ 4σ/√m.
    H = case.dense_hessian()
    sigma = math.sqrt(2 * (float((H * H).sum()) - float((H.diagonal() ** 2).sum())))
    op = hessian_operator(case.model, case.loss_fn, case.x, case.y, params=case.params)
    m = 200
    est = hutchinson(op, m, generator=torch.Generator().manual_seed(0))
    assert est.num_matvecs == m
    assert abs(est.trace - float(H.trace())) <= 4 * sigma / math.sqrt(m) + 1e-12
    # The reported standard error estimates that σ/√m.
    assert 0.5 < est.std_error / (sigma / math.sqrt(m)) < 2.0


def test_hutchpp_is_exact_when_the_sketch_spans_the_space(case):
    H = case.dense_hessian()
    op = hessian_operator(case.model, case.loss_fn, case.x, case.y, params=case.params)
    est = hutchpp(op, 3 * op.size, generator=torch.Generator().manual_seed(0))
    assert est.trace == pytest.approx(float(H.trace()), rel=1e-9, abs=1e-12)
    assert est.num_matvecs == 2 * op.size


def test_hutchpp_needs_fewer_products_than_hutchinson_on_a_decaying_spectrum():
    A = _decaying()
    # Hutch++ with 30 products beats Hutchinson with 8× as many (RMS over 25 repetitions).
    pp = _rms_error(hutchpp, A, 30)
    h240 = _rms_error(hutchinson, A, 240)
    assert pp < h240, (pp, h240)
    # And its error falls faster than 1/√m: quadrupling the budget more than halves it.
    assert _rms_error(hutchpp, A, 120) < 0.5 * pp


def test_estimators_are_unbiased_on_an_indefinite_matrix():
    g = torch.Generator().manual_seed(5)
    B = torch.randn(50, 50, generator=g, dtype=torch.float64)
    A = B + B.T
    exact = float(torch.trace(A))
    op = LinearOperator.from_dense(A)
    fro = float(torch.linalg.matrix_norm(A))
    for method in (hutchinson, hutchpp):
        est = method(op, 3000, generator=g)
        assert abs(est.trace - exact) < 5 * fro * math.sqrt(2 / 1000), method.__name__


def test_hessian_trace_api(case_factory):
    case = case_factory("mlp-tanh-mse")
    exact = float(case.dense_hessian().trace())
    for method in ("hutch++", "hutchinson"):
        est = hessian_trace(case.model, case.loss_fn, case.x, case.y, 3 * 83, method=method,
                            generator=torch.Generator().manual_seed(1))
        assert est.num_matvecs <= 3 * 83
        assert abs(est.trace - exact) < 5 * est.std_error + 1e-9
    with pytest.raises(ValueError, match="method"):
        hessian_trace(case.model, case.loss_fn, case.x, case.y, method="exact")
    with pytest.raises(ValueError, match="num_probes"):
        hutchinson(LinearOperator.from_dense(torch.eye(3)), 0)


def test_ggn_trace_is_exact(case):
    want = float(case.dense_ggn().trace())
    got = ggn_trace(case.model, case.loss_fn, case.x, case.y, params=case.params, chunk_size=4)
    assert got == pytest.approx(want, rel=TOL[torch.float64]["rtol"] * 10, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_relu_network_hessian_trace_equals_ggn_trace(case_factory, seed):
    # Piecewise-linear nets: each output is linear in each single parameter, so the Hessian's
    # diagonal equals the GGN's and their traces agree (used as the benchmark's exact reference).
    case = case_factory("mlp-relu-ce", seed)
    exact_h = float(case.dense_hessian().trace())
    assert ggn_trace(case.model, case.loss_fn, case.x, case.y) == pytest.approx(exact_h, rel=1e-9)

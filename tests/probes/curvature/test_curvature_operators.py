"""Hessian- and GGN-vector products against the dense float64 oracles."""

import pytest
import torch

from gdlab.core import flatten, hvp
from gdlab.probes.curvature import (
    LinearOperator,
    diagonal_congruence,
    ggn_operator,
    ggn_vector_product,
    hessian_operator,
    hessian_vector_product,
)
from gdlab.testing import TOL, assert_close


def _op(case, builder=hessian_operator, **kw):
    return builder(case.model, case.loss_fn, case.x, case.y, params=case.params, **kw)


def test_hessian_operator_equals_dense_hessian(case):
    assert_close(_op(case).to_dense(), case.dense_hessian(), **TOL[torch.float64])


def test_ggn_operator_equals_dense_ggn(case):
    assert_close(_op(case, ggn_operator).to_dense(), case.dense_ggn(), **TOL[torch.float64])


@pytest.mark.parametrize("builder", [hessian_operator, ggn_operator])
@pytest.mark.parametrize("reuse_graph", [True, False])
def test_chunked_products_equal_unchunked(case, builder, reuse_graph):
    whole = _op(case, builder)
    parts = _op(case, builder, chunk_size=3, reuse_graph=reuse_graph)
    V = torch.randn(whole.size, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert_close(parts @ V, whole @ V, **TOL[torch.float64])


def test_sum_reduction_weights_chunks_by_one(case_factory):
    case = case_factory("mlp-tanh-mse")
    n = case.x.shape[0]

    def summed(o, t):
        return n * case.loss_fn(o, t)

    mean_op = _op(case, chunk_size=5)
    sum_op = hessian_operator(case.model, summed, case.x, case.y, chunk_size=5, reduction="mean")
    # A loss n times larger has an n times larger Hessian; "sum" over chunks of a per-chunk
    # sum loss gives the same as the mean of the mean-loss.
    v = torch.randn(mean_op.size, dtype=torch.float64)
    assert_close(sum_op @ v, n * (mean_op @ v), **TOL[torch.float64])

    def per_chunk_sum(o, t):
        return o.shape[0] * case.loss_fn(o, t)

    chunk_sums = hessian_operator(case.model, per_chunk_sum, case.x, case.y, chunk_size=5,
                                  reduction="sum")
    assert_close(chunk_sums @ v, n * (mean_op @ v), **TOL[torch.float64])


def test_dict_products_match_core_hvp(case):
    f, p = case.fn_params()
    v = {k: torch.randn_like(t) for k, t in p.items()}
    got = hessian_vector_product(case.model, case.loss_fn, case.x, case.y, v, params=case.params)
    want = hvp(case.loss_of_params(), p, v)
    for k in p:
        assert_close(got[k], want[k], **TOL[torch.float64])
    g = ggn_vector_product(case.model, case.loss_fn, case.x, case.y, v, params=case.params)
    assert_close(flatten(g)[0], case.dense_ggn() @ flatten(v)[0], **TOL[torch.float64])


def test_float32_products_match_float64(case_factory):
    case = case_factory("mlp-relu-ce")
    dense = case.dense_hessian()
    net32 = case.model.float()
    op = hessian_operator(net32, case.loss_fn, case.x.float(), case.y)
    assert op.dtype == torch.float32
    assert_close(op.to_dense(), dense.float(), rtol=1e-4, atol=1e-5)


def test_counter_matmat_and_from_dense():
    A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    op = LinearOperator.from_dense(A)
    V = torch.eye(2, dtype=torch.float64)
    assert torch.equal(op @ V, A)
    assert op.num_matvecs == 2
    op.reset_count()
    assert op.num_matvecs == 0
    d = torch.tensor([2.0, 0.5], dtype=torch.float64)
    dad = diagonal_congruence(op, d)
    assert_close(dad.to_dense(), torch.diag(d) @ A @ torch.diag(d), **TOL[torch.float64])
    assert op.num_matvecs == 2  # each product of D A D is one product of A


def test_bad_inputs_raise(case_factory):
    case = case_factory("mlp-tanh-mse")
    with pytest.raises(ValueError, match="reduction"):
        _op(case, reduction="median")
    with pytest.raises(ValueError, match="cast"):
        hessian_operator(case.model, case.loss_fn, case.x.float(), case.y)
    with pytest.raises(ValueError, match="samples"):
        hessian_operator(case.model, case.loss_fn, case.x, case.y[:3])
    with pytest.raises(ValueError, match="params="):
        hessian_operator(lambda p, x: x, case.loss_fn, case.x, case.y)
    with pytest.raises(ValueError, match="chunk_size"):
        _op(case, chunk_size=0)
    op = _op(case)
    with pytest.raises(ValueError, match="shape"):
        op.matvec(torch.zeros(op.size + 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="square"):
        LinearOperator.from_dense(torch.zeros(2, 3))


def test_parameters_that_do_not_curve_give_zero_rows():
    # Linear model + linear loss: the Hessian is exactly zero (no graph to differentiate).
    p = {"w": torch.randn(3, dtype=torch.float64), "b": torch.zeros((), dtype=torch.float64)}
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    op = hessian_operator(lambda q, x: x @ q["w"] + q["b"], lambda o, t: (o * t).mean(), x, y,
                          params=p)
    assert torch.equal(op.to_dense(), torch.zeros(4, 4, dtype=torch.float64))
    g = ggn_operator(lambda q, x: x @ q["w"] + q["b"], lambda o, t: (o * t).mean(), x, y, params=p)
    assert torch.equal(g.to_dense(), torch.zeros(4, 4, dtype=torch.float64))


@pytest.mark.cuda
def test_cuda_operator_matches_cpu(case_factory):
    case = case_factory("mlp-relu-ce")
    cpu = hessian_operator(case.model, case.loss_fn, case.x, case.y)
    gpu = hessian_operator(case.model.cuda(), case.loss_fn, case.x, case.y)  # data moved per chunk
    assert gpu.device.type == "cuda"
    v = torch.randn(cpu.size, dtype=torch.float64)
    assert_close((gpu @ v.cuda()).cpu(), cpu @ v, **TOL[torch.float64])

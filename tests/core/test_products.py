import torch
from torch import nn

from gdlab.core import flatten, functionalize, ggn_vp, hvp, jvp, unflatten, vjp
from gdlab.testing import TOL, assert_close, reference


def _case():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    f, p = functionalize(net)
    x = torch.randn(7, 3, dtype=torch.float64)
    return f, p, x


def test_jvp_vjp_match_dense_jacobian():
    f, p, x = _case()
    jac = reference.jacobian(f, p, x)  # (n*k, P)
    v = {k: torch.randn_like(t) for k, t in p.items()}
    _, jv = jvp(lambda q: f(q, x), p, v)
    assert_close(jv.reshape(-1), jac @ flatten(v)[0], **TOL[torch.float64])
    u = torch.randn(7, 2, dtype=torch.float64)
    vj = vjp(lambda q: f(q, x), p, u)
    assert_close(flatten(vj)[0], jac.T @ u.reshape(-1), **TOL[torch.float64])


def test_hvp_matches_dense_hessian():
    f, p, x = _case()
    y = torch.randn(7, 2, dtype=torch.float64)

    def loss(q):
        return ((f(q, x) - y) ** 2).mean()

    h = reference.hessian(loss, p)
    assert_close(h, h.T, **TOL[torch.float64])
    v = {k: torch.randn_like(t) for k, t in p.items()}
    assert_close(flatten(hvp(loss, p, v))[0], h @ flatten(v)[0], **TOL[torch.float64])


def test_ggn_vp_matches_dense_and_closed_form_for_mse():
    f, p, x = _case()
    y = torch.randn(7, 2, dtype=torch.float64)

    def loss_out(o):
        return ((o - y) ** 2).sum() / 2

    g = reference.ggn(lambda q: f(q, x), loss_out, p)
    jac = reference.jacobian(f, p, x)
    # For 0.5‖o − y‖², the output Hessian is I, so the GGN is exactly JᵀJ.
    assert_close(g, jac.T @ jac, **TOL[torch.float64])
    v = {k: torch.randn_like(t) for k, t in p.items()}
    got = flatten(ggn_vp(lambda q: f(q, x), loss_out, p, v))[0]
    assert_close(got, g @ flatten(v)[0], **TOL[torch.float64])


def test_flatten_roundtrip_and_batched_unflatten():
    _, p, _ = _case()
    vec, spec = flatten(p)
    back = unflatten(vec, spec)
    for k in p:
        assert torch.equal(back[k], p[k])
    batch = torch.stack([vec, 2 * vec])
    both = unflatten(batch, spec)
    for k in p:
        assert torch.equal(both[k][1], 2 * p[k])

"""SAM against a direct torch transcription of Foret et al. (2021), Algorithm 1."""

import pytest
import torch

from gdlab import optim
from gdlab.optim.sam import perturbation, sam, sam_extra
from gdlab.train import train


def _problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    params = {"w": torch.randn(5, 4, generator=g, dtype=torch.float64),
              "b": torch.randn(4, generator=g, dtype=torch.float64)}
    x = torch.randn(20, 5, generator=g, dtype=torch.float64)
    y = torch.randn(20, 4, generator=g, dtype=torch.float64)

    def loss(p):
        return ((torch.tanh(x @ p["w"] + p["b"]) - y) ** 2).mean()

    return params, loss


def _paper_sam(params, loss, steps, rho, make_base, adaptive=False):
    """Algorithm 1 of Foret et al. with torch tensors and a torch.optim base optimizer.

    Per step: g = ∇L(w); ε̂ = ρ g/‖g‖₂ (ASAM: ρ T²g/‖Tg‖, T = |w|); w ← w + ε̂; g_SAM = ∇L(w);
    w ← w − ε̂; base step with g_SAM.
    """
    ws = [torch.nn.Parameter(params[k].clone()) for k in params]
    opt = make_base(ws)
    names = list(params)
    for _ in range(steps):
        opt.zero_grad()
        loss(dict(zip(names, ws, strict=True))).backward()
        with torch.no_grad():
            if adaptive:
                tg = [w.abs() * w.grad for w in ws]
                norm = torch.sqrt(sum((t * t).sum() for t in tg))
                eps = [0 + rho * w.abs() * t / (norm + 1e-12) for w, t in zip(ws, tg, strict=True)]
            else:
                norm = torch.sqrt(sum((w.grad * w.grad).sum() for w in ws))
                eps = [rho * w.grad / (norm + 1e-12) for w in ws]
            for w, e in zip(ws, eps, strict=True):
                w.add_(e)
        opt.zero_grad()
        loss(dict(zip(names, ws, strict=True))).backward()
        with torch.no_grad():
            for w, e in zip(ws, eps, strict=True):
                w.sub_(e)
        opt.step()
    return {k: w.detach() for k, w in zip(names, ws, strict=True)}


BASES = [
    ("sgd", {"lr": 0.1}, lambda ws: torch.optim.SGD(ws, lr=0.1, foreach=False)),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
     lambda ws: torch.optim.SGD(ws, lr=0.05, momentum=0.9, weight_decay=0.01, foreach=False)),
    ("adam", {"lr": 0.01}, lambda ws: torch.optim.Adam(ws, lr=0.01, foreach=False)),
]


@pytest.mark.parametrize("adaptive", [False, True])
@pytest.mark.parametrize("base,hyper,make_base", BASES)
def test_pure_rule_matches_the_paper(base, hyper, make_base, adaptive):
    params, loss = _problem()
    want = _paper_sam(params, loss, 6, 0.05, make_base, adaptive=adaptive)
    tx = sam(rho=0.05, base=base, adaptive=adaptive, **hyper)
    state = tx.init(params)
    p = dict(params)
    for _ in range(6):
        grads = torch.func.grad(loss)(p)
        updates, state = tx.update(grads, state, p, loss_fn=loss)
        p = optim.apply_updates(p, updates)
    for k in p:
        torch.testing.assert_close(p[k], want[k], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("base,hyper,make_base", BASES)
def test_torch_adapter_with_closure_matches_the_paper(base, hyper, make_base):
    params, loss = _problem(1)
    want = _paper_sam(params, loss, 5, 0.1, make_base)
    ws = [torch.nn.Parameter(params[k].clone()) for k in params]
    opt = optim.torch_optimizer("sam", ws, rho=0.1, base=base, **hyper)

    def closure():
        opt.zero_grad()
        value = loss(dict(zip(params, ws, strict=True)))
        value.backward()
        return value

    for _ in range(5):
        opt.step(closure)
    for k, w in zip(params, ws, strict=True):
        torch.testing.assert_close(w.detach(), want[k], rtol=1e-12, atol=1e-14)


def test_train_loop_with_sam_extra_matches_the_paper():
    params, loss = _problem(2)
    want = _paper_sam(params, loss, 4, 0.2, lambda ws: torch.optim.SGD(ws, lr=0.1, foreach=False))
    res = train(loss, params, sam(lr=0.1, rho=0.2), steps=4, update_extra=sam_extra(loss))
    for k in params:
        torch.testing.assert_close(res.params[k], want[k], rtol=1e-12, atol=1e-14)


def test_rho_zero_is_the_base_rule():
    params, loss = _problem(3)
    grads = torch.func.grad(loss)(params)
    u_sam, _ = sam(lr=0.1, rho=0.0).update(grads, sam(lr=0.1).init(params), params, loss_fn=loss)
    u_sgd, _ = optim.sgd(0.1).update(grads, optim.sgd(0.1).init(params), params)
    for k in params:
        assert torch.equal(optim.materialize(u_sam)[k], optim.materialize(u_sgd)[k])


def test_perturbation_has_norm_rho():
    params, loss = _problem(4)
    eps = perturbation(torch.func.grad(loss)(params), params, 0.3)
    assert float(torch.sqrt(sum((e * e).sum() for e in eps.values()))) == pytest.approx(0.3)


def test_errors():
    params, loss = _problem()
    tx = sam(lr=0.1)
    grads = torch.func.grad(loss)(params)
    with pytest.raises(ValueError, match="grad_fn"):
        tx.update(grads, tx.init(params), params)
    with pytest.raises(ValueError, match="params"):
        tx.update(grads, tx.init(params), None, loss_fn=loss)
    with pytest.raises(ValueError, match="rho"):
        sam(lr=0.1, rho=-1.0)
    with pytest.raises(ValueError, match="needs lr"):
        sam()
    with pytest.raises(ValueError, match="base"):
        sam(lr=0.1, base="lbfgs")
    with pytest.raises(ValueError, match="in the base"):
        sam(lr=0.1, base=optim.sgd(0.1))

"""Rules without a torch.optim twin, against NumPy transcriptions of their papers.

Each ``np_*`` function below is written from the paper's pseudo-code (cited), not from
gdlab's implementation: plain loops over leaves, the paper's symbols, NumPy only. The
torch rule and the transcription run the same number of steps from the same start on
the quadratic of `_optim_cases`, with default and non-default hyper-parameters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _optim_cases import Quadratic, run_rule

from gdlab import optim

STEPS = 8
REF_RTOL = 1e-10
"""Transcriptions order the same float64 operations differently (e.g. ``θ − η(s + λθ)``
vs ``θ(1 − ηλ) − ηs``); over 8 steps that moves the last few bits only. A wrong formula
(a missing bias correction, β₁/β₂ swapped) is off by >1e-3."""


def _assert_close(params, ref):
    for k, v in ref.items():
        np.testing.assert_allclose(params[k].numpy(), v, rtol=REF_RTOL, atol=1e-12, err_msg=k)


def np_signum(p, grad, steps, lr, momentum, weight_decay):
    """Bernstein et al. 2018, Algorithm 3 (Signum; signSGD when β = 0), decoupled decay."""
    m = {k: np.zeros_like(v) for k, v in p.items()}
    for _ in range(steps):
        g = grad(p)
        for k in p:
            m[k] = momentum * m[k] + (1 - momentum) * g[k]
            p[k] = p[k] - lr * (np.sign(m[k]) + weight_decay * p[k])
    return p


def np_lion(p, grad, steps, lr, b1, b2, wd):
    """Chen et al. 2023 ('Symbolic discovery'), Program/Algorithm 2."""
    m = {k: np.zeros_like(v) for k, v in p.items()}
    for _ in range(steps):
        g = grad(p)
        for k in p:
            c = b1 * m[k] + (1 - b1) * g[k]
            p[k] = p[k] - lr * (np.sign(c) + wd * p[k])
            m[k] = b2 * m[k] + (1 - b2) * g[k]
    return p


def np_normalized_gd(p, grad, steps, lr, eps):
    """θ ← θ − η g/(‖g‖ + ε), the norm over all parameters."""
    for _ in range(steps):
        g = grad(p)
        norm = math.sqrt(sum(float((v**2).sum()) for v in g.values()))
        for k in p:
            p[k] = p[k] - lr * g[k] / (norm + eps)
    return p


def np_lr_gd(z, gamma, steps, normalized):
    """Tyurin 2024: LR+GD θ ← θ − γ∇f(θ), f = (1/n)Σ log(1 + exp(−y_i a_iᵀθ)); Normalized
    LR+GD multiplies the step by β_t = ((1/n) Σ (1 + exp(y_i a_iᵀθ_t))⁻¹)⁻¹ (Sec. 6)."""
    theta = np.zeros(z.shape[1])
    path = []
    for _ in range(steps):
        s = 1 / (1 + np.exp(z @ theta))  # (1 + exp(y aᵀθ))⁻¹
        grad = -(z.T @ s) / len(z)
        beta = 1 / s.mean() if normalized else 1.0
        theta = theta - gamma * beta * grad
        path.append(theta.copy())
    return path


def np_diffgrad(p, grad, steps, lr, b1, b2, eps, wd):
    """Dubey et al. 2019, Algorithm 1 (diffGrad), g_0 = 0, L2 decay added to g."""
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(x) for k, x in p.items()}
    prev = {k: np.zeros_like(x) for k, x in p.items()}
    for t in range(1, steps + 1):
        g = grad(p)
        for k in p:
            gk = g[k] + wd * p[k]
            m[k] = b1 * m[k] + (1 - b1) * gk
            v[k] = b2 * v[k] + (1 - b2) * gk**2
            m_hat = m[k] / (1 - b1**t)
            v_hat = v[k] / (1 - b2**t)
            xi = 1 / (1 + np.exp(-np.abs(prev[k] - gk)))
            p[k] = p[k] - lr * xi * m_hat / (np.sqrt(v_hat) + eps)
            prev[k] = gk
    return p


def np_exadam(p, grad, steps, lr, b1, b2, eps, wd, growth):
    """Adly 2024, EXAdam (Algorithm 1; decoupled decay of the released code)."""
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(x) for k, x in p.items()}
    for t in range(1, steps + 1):
        g = grad(p)
        alpha = lr * math.log(math.sqrt(2) * math.sqrt(t + 1)) if growth else lr
        for k in p:
            p[k] = p[k] - lr * wd * p[k]
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            d1 = 1 + v[k] / (v[k] + eps) * b2**t
            d2 = 1 + m[k] ** 2 / (m[k] ** 2 + eps) * b1**t
            m_t = m[k] / (1 - b1**t) * d1
            v_t = v[k] / (1 - b2**t) * d2
            g_t = g[k] / (1 - b1**t) * d1
            p[k] = p[k] - alpha * (m_t + g_t) / (np.sqrt(v_t) + eps)
    return p


def np_polar(x):
    """(U Vᵀ, Σσ) of a matrix; a vector is the row matrix 1 × n."""
    mat = x.reshape(1, -1) if x.ndim == 1 else x
    u, s, vt = np.linalg.svd(mat, full_matrices=False)
    return (u @ vt).reshape(x.shape), float(s.sum())


def np_polargrad(p, grad, steps, lr, beta, wd, polar_first):
    """Lau, Long, Su 2025: PolarGrad(M); polar-first variant polar(G) then momentum."""
    m = {k: np.zeros_like(v) for k, v in p.items()}
    for _ in range(steps):
        g = grad(p)
        for k in p:
            if polar_first:
                u, nuc = np_polar(g[k])
                m[k] = beta * m[k] + (1 - beta) * u
                step = nuc * m[k]
            else:
                m[k] = beta * m[k] + (1 - beta) * g[k]
                u, nuc = np_polar(m[k])
                step = nuc * u
            p[k] = (1 - lr * wd) * p[k] - lr * step
    return p


def np_muon(p, grad, steps, lr, wd, mu, nesterov, ns_steps):
    """Jordan et al. 2024, Muon (muon.py), Newton–Schulz in float64."""
    a, b, c = 3.4445, -4.7750, 2.0315
    buf = {k: np.zeros_like(v) for k, v in p.items()}
    for _ in range(steps):
        g = grad(p)
        for k in p:
            buf[k] = mu * buf[k] + (1 - mu) * g[k]
            upd = (1 - mu) * g[k] + mu * buf[k] if nesterov else buf[k]
            x = upd.reshape(1, -1) if upd.ndim == 1 else upd
            tall = x.shape[0] > x.shape[1]
            x = x.T if tall else x
            x = x / max(np.linalg.norm(x), 1e-7)
            for _ in range(ns_steps):
                gram = x @ x.T
                x = a * x + (b * gram + c * gram @ gram) @ x
            x = (x.T if tall else x).reshape(upd.shape)
            rows, cols = (1, upd.shape[0]) if upd.ndim == 1 else upd.shape
            p[k] = (1 - lr * wd) * p[k] - lr * math.sqrt(max(1, rows / cols)) * x
    return p


@pytest.mark.parametrize("hyper", [
    {"lr": 1e-2}, {"lr": 3e-3, "momentum": 0.8, "weight_decay": 0.1}])
def test_sign_descent_matches_signum(hyper):
    prob = Quadratic(1)
    out = run_rule(optim.sign_descent(**hyper), prob, STEPS)
    h = {"momentum": 0.0, "weight_decay": 0.0, **hyper}
    _assert_close(out, np_signum(prob.np_params(), prob.np_grad, STEPS, **h))


@pytest.mark.parametrize("hyper", [{}, {"lr": 3e-2, "betas": (0.8, 0.95), "weight_decay": 0.5}])
def test_lion_matches_paper(hyper):
    prob = Quadratic(2)
    out = run_rule(optim.lion(**hyper), prob, STEPS)
    lr, (b1, b2), wd = hyper.get("lr", 1e-4), hyper.get("betas", (0.9, 0.99)), hyper.get(
        "weight_decay", 0.0)
    _assert_close(out, np_lion(prob.np_params(), prob.np_grad, STEPS, lr, b1, b2, wd))


@pytest.mark.parametrize("lr,eps", [(0.1, 0.0), (0.05, 0.5)])
def test_normalized_gd_matches_definition(lr, eps):
    prob = Quadratic(3)
    out = run_rule(optim.normalized_gd(lr, eps=eps), prob, STEPS)
    _assert_close(out, np_normalized_gd(prob.np_params(), prob.np_grad, STEPS, lr, eps))


def _logistic_run(tx, z, steps):
    theta = {"w": torch.zeros(z.shape[1], dtype=torch.float64)}
    zt = torch.from_numpy(z)
    state, path = tx.init(theta), []
    for _ in range(steps):
        margins = zt @ theta["w"]
        grads = {"w": -(zt.T @ torch.sigmoid(-margins)) / len(z)}
        updates, state = tx.update(grads, state, theta, margins=margins)
        theta = optim.apply_updates(theta, updates)
        path.append(theta["w"].numpy().copy())
    return path


def _worst_case(n):
    """Tyurin 2024, Theorem 5.1: a = (0.5, −1) labelled +1 and n − 1 copies of (−0.5, −1)
    labelled −1; rows are z_i = y_i a_i."""
    z = np.array([[0.5, -1.0]] + [[0.5, 1.0]] * (n - 1))
    return z


@pytest.mark.parametrize("gamma", [0.3, 20.0])
def test_normalized_lr_gd_matches_tyurin(gamma):
    z = np.random.default_rng(3).standard_normal((30, 4))
    got = _logistic_run(optim.normalized_lr_gd(gamma), z, STEPS)
    ref = np_lr_gd(z, gamma, STEPS, normalized=True)
    np.testing.assert_allclose(np.array(got), np.array(ref), rtol=REF_RTOL, atol=1e-12)


def _iterations_to_separate(tx, z, cap=2000):
    theta = {"w": torch.zeros(z.shape[1], dtype=torch.float64)}
    zt = torch.from_numpy(z)
    state = tx.init(theta)
    for t in range(1, cap + 1):
        margins = zt @ theta["w"]
        grads = {"w": -(zt.T @ torch.sigmoid(-margins)) / len(z)}
        updates, state = tx.update(grads, state, theta, margins=margins)
        theta = optim.apply_updates(theta, updates)
        if bool((zt @ theta["w"] > 0).all()):
            return t
    return cap + 1


def test_paper_table_1_worst_case_iterations():
    """Tyurin 2024, Table 1, the 'worst-case' dataset of Theorem 5.1 (n = 1000): Normalized
    LR+GD needs 2, 2, 16, 157 iterations at steps 100, 10, 1, 0.1; LR+GD at step 100: 308."""
    z = _worst_case(1000)
    normalized = [_iterations_to_separate(optim.normalized_lr_gd(g), z) for g in (100, 10, 1, 0.1)]
    assert normalized == [2, 2, 16, 157]
    assert _iterations_to_separate(optim.gd(100.0), z) == 308


def test_normalized_lr_gd_needs_the_margins():
    tx = optim.normalized_lr_gd(1.0)
    p = {"w": torch.zeros(2)}
    with pytest.raises(ValueError, match="margins"):
        tx.update(p, tx.init(p), p)


@pytest.mark.parametrize("hyper", [
    {},
    {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.1},
])
def test_diffgrad_matches_paper(hyper):
    prob = Quadratic(5)
    out = run_rule(optim.diffgrad(**hyper), prob, STEPS)
    lr, (b1, b2) = hyper.get("lr", 1e-3), hyper.get("betas", (0.9, 0.999))
    ref = np_diffgrad(prob.np_params(), prob.np_grad, STEPS, lr, b1, b2,
                      hyper.get("eps", 1e-8), hyper.get("weight_decay", 0.0))
    _assert_close(out, ref)


@pytest.mark.parametrize("hyper", [
    {},
    {"lr": 0.02, "betas": (0.85, 0.99), "eps": 1e-6, "weight_decay": 0.05},
    {"lr": 0.01, "step_growth": True},
])
def test_exadam_matches_paper(hyper):
    prob = Quadratic(6)
    out = run_rule(optim.exadam(**hyper), prob, STEPS)
    lr, (b1, b2) = hyper.get("lr", 1e-3), hyper.get("betas", (0.9, 0.999))
    ref = np_exadam(prob.np_params(), prob.np_grad, STEPS, lr, b1, b2, hyper.get("eps", 1e-8),
                    hyper.get("weight_decay", 0.0), hyper.get("step_growth", False))
    _assert_close(out, ref)


@pytest.mark.parametrize("hyper", [
    {"lr": 0.01},
    {"lr": 0.02, "momentum": 0.9, "weight_decay": 0.1},
    {"lr": 0.02, "momentum": 0.5, "polar_first": True},
])
def test_polargrad_matches_paper(hyper):
    prob = Quadratic(7)
    out = run_rule(optim.polargrad(**hyper), prob, STEPS)
    ref = np_polargrad(prob.np_params(), prob.np_grad, STEPS, hyper["lr"],
                       hyper.get("momentum", 0.0), hyper.get("weight_decay", 0.0),
                       hyper.get("polar_first", False))
    _assert_close(out, ref)


def test_polargrad_newton_schulz_backend_matches_exact_polar():
    """The cubic Newton–Schulz iteration converges to the SVD polar factor."""
    prob = Quadratic(8)
    out = run_rule(optim.polargrad(0.02, momentum=0.5, polar="newton_schulz"), prob, STEPS)
    ref = np_polargrad(prob.np_params(), prob.np_grad, STEPS, 0.02, 0.5, 0.0, False)
    _assert_close(out, ref)


@pytest.mark.parametrize("hyper", [
    {"lr": 0.02},
    {"lr": 0.05, "weight_decay": 0.01, "momentum": 0.9, "nesterov": False, "ns_steps": 7},
])
def test_muon_float64_matches_keller_jordan(hyper):
    prob = Quadratic(9)
    out = run_rule(optim.muon(**hyper, ns_dtype=None), prob, STEPS)
    ref = np_muon(prob.np_params(), prob.np_grad, STEPS, hyper["lr"],
                  hyper.get("weight_decay", 0.1), hyper.get("momentum", 0.95),
                  hyper.get("nesterov", True), hyper.get("ns_steps", 5))
    _assert_close(out, ref)


def test_diffgrad_friction_is_in_its_range():
    """ξ = sigmoid(|Δg|) ∈ [0.5, 1): the step is between 0.5 and 1 times Adam's."""
    prob = Quadratic(5)
    params = prob.params()
    grads = torch.func.grad(prob.loss)(params)
    adam = optim.adam(1e-3)
    dg = optim.diffgrad(1e-3)
    ua, _ = adam.update(grads, adam.init(params), params)
    ud, _ = dg.update(grads, dg.init(params), params)
    for k in params:
        ratio = ud[k] / ua[k]
        assert bool(((ratio >= 0.5 - 1e-12) & (ratio < 1)).all())


def _stream(seed: int, steps: int):
    """Random gradients, independent of θ: signs flip, so β₁ vs β₂ and the sign matter."""
    rng = np.random.default_rng(seed)
    return [{"W": rng.standard_normal((5, 3)), "b": rng.standard_normal(3)} for _ in range(steps)]


def _run_on_stream(tx, stream, start):
    params = {k: torch.from_numpy(v.copy()) for k, v in start.items()}
    state = tx.init(params)
    for g in stream:
        grads = {k: torch.from_numpy(v) for k, v in g.items()}
        updates, state = tx.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    return params


@pytest.mark.parametrize("rule", ["lion", "signum", "diffgrad", "exadam"])
def test_rules_on_a_sign_flipping_gradient_stream(rule):
    stream = _stream(10, 12)
    it = iter(stream)
    prob = Quadratic(11)
    start = prob.np_params()
    grad = lambda p: next(it)  # noqa: E731
    if rule == "lion":
        tx = optim.lion(0.05, betas=(0.7, 0.97), weight_decay=0.2)
        ref = np_lion(dict(start), grad, len(stream), 0.05, 0.7, 0.97, 0.2)
    elif rule == "signum":
        tx = optim.sign_descent(0.05, momentum=0.6, weight_decay=0.2)
        ref = np_signum(dict(start), grad, len(stream), 0.05, 0.6, 0.2)
    elif rule == "diffgrad":
        tx = optim.diffgrad(0.05, betas=(0.7, 0.9), weight_decay=0.1)
        ref = np_diffgrad(dict(start), grad, len(stream), 0.05, 0.7, 0.9, 1e-8, 0.1)
    else:
        tx = optim.exadam(0.05, betas=(0.7, 0.9), weight_decay=0.1)
        ref = np_exadam(dict(start), grad, len(stream), 0.05, 0.7, 0.9, 1e-8, 0.1, False)
    _assert_close(_run_on_stream(tx, stream, start), ref)

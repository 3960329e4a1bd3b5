"""gd_predict against direct iteration, matrix exponentials, and a trained wide network."""

from __future__ import annotations

import math

import pytest
import scipy.linalg
import torch

from gdlab import optim
from gdlab.core import functionalize
from gdlab.kernels import gd_predict, max_learning_rate, mlp_kernels
from gdlab.models import MLP
from gdlab.probes import empirical_ntk
from gdlab.testing import assert_close
from gdlab.train import mse, train

RTOL = 1e-9  # float64, closed form vs iteration over ≤ 50 steps


def _problem(n=7, m=4, rank=None, k=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n + m, rank or (n + m), generator=g, dtype=torch.float64)
    big = a @ a.T  # PSD joint kernel over train ∪ test (rank-deficient when rank < n)
    y = torch.randn(n, k, generator=g, dtype=torch.float64)
    f0 = torch.randn(n, k, generator=g, dtype=torch.float64)
    f0t = torch.randn(m, k, generator=g, dtype=torch.float64)
    return big[:n, :n], big[n:, :n], y, f0, f0t


def _iterate(ktt, kte, y, f0, f0t, lr, steps):
    """The update itself: f ← f − (η/n) Θ (f − y) on train, the same residual drives test."""
    n = ktt.shape[0]
    f, ft, out = f0.clone(), f0t.clone(), []
    for t in range(steps + 1):
        out.append((t, f.clone(), ft.clone()))
        r = f - y
        f, ft = f - lr / n * ktt @ r, ft - lr / n * kte @ r
    return out


@pytest.mark.parametrize("rank", [None, 3])
def test_discrete_gd_equals_direct_iteration(rank):
    ktt, kte, y, f0, f0t = _problem(rank=rank)
    lr = 0.9 * max_learning_rate(ktt)
    traj = _iterate(ktt, kte, y, f0, f0t, lr, 50)
    times = [t for t, _, _ in traj]
    pred = gd_predict(ktt, y, times, lr=lr, k_test_train=kte, f0_train=f0, f0_test=f0t)
    assert_close(pred.train, torch.stack([f for _, f, _ in traj]), rtol=RTOL, atol=1e-12)
    assert_close(pred.test, torch.stack([ft for _, _, ft in traj]), rtol=RTOL, atol=1e-12)


def test_gradient_flow_equals_matrix_exponential():
    ktt, kte, y, f0, f0t = _problem()
    n, t = ktt.shape[0], 3.7
    decay = torch.from_numpy(scipy.linalg.expm(-ktt.numpy() * t / n))
    train_ref = y + decay @ (f0 - y)
    test_ref = f0t + kte @ torch.linalg.solve(
        ktt, (torch.eye(n, dtype=ktt.dtype) - decay) @ (y - f0)
    )
    pred = gd_predict(ktt, y, t, k_test_train=kte, f0_train=f0, f0_test=f0t)
    assert_close(pred.train, train_ref, rtol=1e-8, atol=1e-10)
    assert_close(pred.test, test_ref, rtol=1e-8, atol=1e-10)


def test_infinite_time_is_kernel_regression_and_small_steps_approach_flow():
    ktt, kte, y, f0, f0t = _problem()
    inf = gd_predict(
        ktt,
        y,
        math.inf,
        lr=0.5 * max_learning_rate(ktt),
        k_test_train=kte,
        f0_train=f0,
        f0_test=f0t,
    )
    assert_close(inf.train, y, rtol=1e-8, atol=1e-10)
    assert_close(inf.test, f0t + kte @ torch.linalg.solve(ktt, y - f0), rtol=1e-7, atol=1e-9)
    flow = gd_predict(ktt, y, 2.0, k_test_train=kte, f0_train=f0, f0_test=f0t)
    steps = gd_predict(ktt, y, 20_000, lr=2.0 / 20_000, k_test_train=kte, f0_train=f0, f0_test=f0t)
    assert_close(steps.test, flow.test, rtol=1e-3, atol=1e-6)  # Euler error O(η)


def test_four_dimensional_empirical_kernel_matches_flattened_iteration():
    g = torch.Generator().manual_seed(1)
    net = MLP(3, (6,), 2, activation="tanh", generator=g).double()
    x, xt = (
        torch.randn(5, 3, generator=g, dtype=torch.float64),
        torch.randn(3, 3, generator=g, dtype=torch.float64),
    )
    ktt, kte = empirical_ntk(net, x), empirical_ntk(net, xt, x)  # (5, 5, 2, 2), (3, 5, 2, 2)
    y = torch.randn(5, 2, generator=g, dtype=torch.float64)
    flat_tt = ktt.permute(0, 2, 1, 3).reshape(10, 10)
    flat_te = kte.permute(0, 2, 1, 3).reshape(6, 10)
    lr = 0.5 * max_learning_rate(ktt)
    # _iterate divides by its matrix's rows (10); gdlab's mse divides by samples (5): double Θ.
    traj = _iterate(
        flat_tt * 2,
        flat_te * 2,
        y.reshape(10, 1),
        torch.zeros(10, 1, dtype=torch.float64),
        torch.zeros(6, 1, dtype=torch.float64),
        lr,
        12,
    )
    pred = gd_predict(ktt, y, 12, lr=lr, k_test_train=kte)
    assert_close(pred.train, traj[-1][1].reshape(5, 2), rtol=RTOL, atol=1e-12)
    assert_close(pred.test, traj[-1][2].reshape(3, 2), rtol=RTOL, atol=1e-12)


def test_max_learning_rate_is_the_stability_edge():
    ktt, _, y, f0, _ = _problem()
    eta = max_learning_rate(ktt)
    n = ktt.shape[0]
    assert eta == pytest.approx(2 * n / torch.linalg.eigvalsh(ktt)[-1].item(), rel=1e-12)
    below = gd_predict(ktt, y, 2000, lr=0.99 * eta, f0_train=f0).train
    above = gd_predict(ktt, y, 2000, lr=1.01 * eta, f0_train=f0).train
    assert (below - y).abs().max() < 1.0 < (above - y).abs().max()
    with pytest.raises(ValueError, match="diverges"):
        gd_predict(ktt, y, math.inf, lr=1.01 * eta)


@pytest.mark.parametrize(
    "bad",
    [
        dict(times=-1.0),
        dict(lr=-0.1),
        dict(y=torch.zeros(3)),
        dict(k=torch.zeros(3, 4)),
    ],
)
def test_bad_arguments_raise(bad):
    ktt, _, y, _, _ = _problem()
    with pytest.raises(ValueError):
        gd_predict(bad.get("k", ktt), bad.get("y", y), bad.get("times", 1.0), lr=bad.get("lr", 0.1))


def test_prediction_follows_a_trained_wide_network():
    """GD with gdlab.optim.sgd on gdlab.train.mse vs gd_predict with the NTK at init.

    Width 1024, NTK parametrization, 60 steps at half the maximal rate (train loss 2e-5).
    Gaps are ‖prediction − net‖ / ‖net − f_0‖. Measured (seed 7): empirical kernel at init
    0.0019 (train) / 0.041 (test); infinite-width kernel 0.0023 / 0.052 (width 2048: 0.0013 /
    0.036 and 0.0015 / 0.061). The bounds leave 2-4× room for the O(1/√width) terms.
    """
    linearization_tol, infinite_tol = 0.1, 0.2
    g = torch.Generator().manual_seed(7)
    x = (
        torch.nn.functional.normalize(torch.randn(12, 4, generator=g, dtype=torch.float64), dim=1)
        * 2.0
    )
    xt = (
        torch.nn.functional.normalize(torch.randn(6, 4, generator=g, dtype=torch.float64), dim=1)
        * 2.0
    )
    y = torch.sin(2 * x[:, :1])
    net = MLP(4, (1024, 1024), 1, activation="relu", parametrization="ntk", generator=g).double()
    f, p0 = functionalize(net)
    ktt, kte = empirical_ntk(net, x), empirical_ntk(net, xt, x)
    lr, steps = 0.5 * max_learning_rate(ktt), 60
    result = train(lambda p: mse(f(p, x), y), p0, optim.sgd(lr), steps)
    with torch.no_grad():
        f_tr, f_te, f0, f0t = f(result.params, x), f(result.params, xt), f(p0, x), f(p0, xt)
    pred = gd_predict(ktt, y, steps, lr=lr, k_test_train=kte, f0_train=f0, f0_test=f0t)

    def gap(a, b):
        return ((a - b).norm() / (b - (f0 if b.shape == f0.shape else f0t)).norm()).item()

    assert gap(pred.train, f_tr) < linearization_tol and gap(pred.test, f_te) < linearization_tol
    inf = mlp_kernels(torch.cat([x, xt]), hidden_layers=2, activation="relu").ntk
    pred_inf = gd_predict(
        inf[:12, :12], y, steps, lr=lr, k_test_train=inf[12:, :12], f0_train=f0, f0_test=f0t
    )
    assert gap(pred_inf.train, f_tr) < infinite_tol and gap(pred_inf.test, f_te) < infinite_tol

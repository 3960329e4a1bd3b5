"""The sharpness probe inside the training loop, against the dense Hessian at the same points."""

import pytest
import torch

from gdlab import optim
from gdlab.core import flatten, functionalize
from gdlab.probes.curvature import SharpnessProbe, StateRecorder, adam_preconditioner
from gdlab.probes.curvature.sharpness import PROBE_TOL
from gdlab.testing import reference
from gdlab.train import train

RTOL = 1e-6
EXACT = 1e-9
"""Lanczos tolerance for the comparisons at RTOL (the probe's default, PROBE_TOL, is looser)."""


def _setup(case):
    f, p = functionalize(case.model)

    def loss(q):
        return case.loss_fn(f(q, case.x), case.y)

    return f, p, loss


def _dense_top(loss, params, d=None):
    H = reference.hessian(loss, params)
    H = 0.5 * (H + H.T)
    if d is not None:
        H = d[:, None] * H * d[None, :]
    return torch.linalg.eigvalsh(H).flip(0)


def test_probe_tracks_top_eigenvalue_with_warm_starts(case_factory):
    case = case_factory("mlp-tanh-mse")
    f, p, loss = _setup(case)
    probe = SharpnessProbe(f, case.loss_fn, case.x, case.y, k=2, tol=EXACT,
                           generator=torch.Generator().manual_seed(0))
    res = train(loss, p, optim.gd(0.05), steps=30, probes=[(5, probe)])
    steps, lam = res.probe_series("sharpness")
    assert steps == [0, 5, 10, 15, 20, 25, 30]
    want0 = _dense_top(loss, p)
    want_end = _dense_top(loss, res.params)
    assert lam[0] == pytest.approx(float(want0[0]), rel=RTOL)
    assert lam[-1] == pytest.approx(float(want_end[0]), rel=RTOL)
    assert res.probe_series("sharpness_2")[1][-1] == pytest.approx(float(want_end[1]), rel=RTOL)
    _, hvps = res.probe_series("sharpness_hvps")
    _, secs = res.probe_series("sharpness_seconds")
    assert all(s > 0 for s in secs)
    # Warm starts from the previous eigenvectors need fewer products than the cold first call.
    assert max(hvps[1:]) < hvps[0], hvps
    assert probe.total_matvecs == sum(hvps)


def test_cold_probe_agrees_with_warm_probe(case_factory):
    case = case_factory("mlp-relu-ce")
    f, p, loss = _setup(case)
    warm = SharpnessProbe(f, case.loss_fn, case.x, case.y, tol=EXACT)
    cold = SharpnessProbe(case.model, case.loss_fn, case.x, case.y, tol=EXACT, warm_start=False)
    res = train(loss, p, optim.gd(0.5), steps=12, probes=[(4, warm), (4, cold)])
    assert res.probe_series("sharpness")[1][::2] == pytest.approx(res.probe_series("sharpness")[1][1::2],
                                                                  rel=RTOL)


def test_preconditioned_sharpness_for_adam(case_factory):
    case = case_factory("mlp-tanh-mse")
    f, p, loss = _setup(case)
    rec = StateRecorder(optim.adam(1e-2, eps=1e-8))
    probe = SharpnessProbe(f, case.loss_fn, case.x, case.y, tol=EXACT,
                           preconditioner=lambda: adam_preconditioner(rec.state, b2=0.999, eps=1e-8))
    res = train(loss, p, rec.tx, steps=10, probes=[(10, probe)])
    steps, pre = res.probe_series("preconditioned_sharpness")
    assert steps == [10]  # none at step 0: Adam has no second moment before its first update
    P = flatten(adam_preconditioner(rec.state))[0]
    want = _dense_top(loss, res.params, P.rsqrt())
    assert pre[0] == pytest.approx(float(want[0]), rel=RTOL)
    # Adam at t=10 with v̂ ≈ g²: P^{-1} rescales the curvature by orders of magnitude.
    assert pre[0] > 10 * res.probe_series("sharpness")[1][-1]


def test_default_tolerance_is_met(case_factory):
    case = case_factory("mlp-relu-ce", seed=5)
    f, p, loss = _setup(case)
    out = SharpnessProbe(f, case.loss_fn, case.x, case.y)(0, p)
    assert out["sharpness"] == pytest.approx(float(_dense_top(loss, p)[0]), rel=PROBE_TOL)


def test_bad_arguments():
    with pytest.raises(ValueError, match="k must"):
        SharpnessProbe(lambda p, x: x, None, torch.zeros(1), torch.zeros(1), k=0)
    with pytest.raises(ValueError, match="Adam state"):
        adam_preconditioner(optim.sgd(0.1).init({"w": torch.zeros(2)}))

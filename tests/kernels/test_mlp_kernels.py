"""Infinite-width NNGP/NTK: neural-tangents' values, closed forms, Monte Carlo, properties."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlab.kernels import _mlp, mlp_kernels
from gdlab.models import MLP
from gdlab.probes import empirical_ntk
from gdlab.testing import assert_close

FIXTURE = Path(__file__).parent / "data" / "nt_mlp_kernels.json"
NT_RTOL = 1e-5  # the bar, relative to the largest entry (neural-tangents float64)


def _nt_cases():
    doc = json.loads(FIXTURE.read_text())
    return [
        pytest.param(c, id=f"{i}-{c['act']}-L{c['hidden_layers']}-{c['parametrization']}")
        for i, c in enumerate(doc["cases"])
    ]


@pytest.mark.parametrize("case", _nt_cases())
def test_matches_neural_tangents(case):
    """Fixture written by bench/nt_reference.py (its own JAX venv); CI has no JAX."""
    x1 = torch.tensor(case["x1"], dtype=torch.float64)
    x2 = None if case["x2"] is None else torch.tensor(case["x2"], dtype=torch.float64)
    k = mlp_kernels(
        x1,
        x2,
        hidden_layers=case["hidden_layers"],
        activation=case["act"],
        w_std=case["w_std"],
        b_std=case["b_std"],
        parametrization=case["parametrization"],
        width=case["width"],
    )
    for name in ("nngp", "ntk"):
        ref = torch.tensor(case[name], dtype=torch.float64)
        got = getattr(k, name)
        assert got.shape == ref.shape
        err = (got - ref).abs().max().item() / ref.abs().max().item()
        assert err < NT_RTOL, f"{name}: max error {err:.2e} relative to the largest entry"


def test_identity_network_is_linear_regression_kernel():
    """Deep linear, NTK parametrization: Σ^l = σ_w^{2l} xx'/d (+ bias terms), Θ = (L+1) Σ at b=0."""
    x = torch.randn(5, 3, dtype=torch.float64)
    lin = x @ x.T / 3
    k = mlp_kernels(x, hidden_layers=3, activation="identity", w_std=1.3)
    assert_close(k.nngp, 1.3**8 * lin, rtol=1e-12)
    assert_close(k.ntk, 4 * 1.3**8 * lin, rtol=1e-12)


def test_relu_depth_one_closed_form_by_hand():
    """Arc-cosine kernel on two orthogonal unit vectors: θ = π/2."""
    x = torch.eye(2, dtype=torch.float64) * math.sqrt(2)  # ‖x‖² = d = 2, so Σ¹ = I
    k = mlp_kernels(x, hidden_layers=1, activation="relu")
    # E[relu(u)relu(v)] = 1/(2π) off the diagonal, 1/2 on it; E[relu'relu'] = 1/4 and 1/2.
    assert_close(
        k.nngp,
        torch.tensor([[0.5, 1 / (2 * math.pi)], [1 / (2 * math.pi), 0.5]], dtype=torch.float64),
        rtol=1e-12,
    )
    assert_close(
        k.ntk, k.nngp + torch.tensor([[0.5, 0.0], [0.0, 0.5]], dtype=torch.float64), rtol=1e-12
    )


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_closed_forms_equal_numerical_quadrature(activation):
    """The Mehler/Gauss-Hermite path on the same function must reproduce the closed form.

    erf is analytic: the Mehler series certifies its tail and agrees to rounding. relu has a
    kink: its Hermite tail decays like j^(-3/2), the series is not certified within
    MEHLER_MAX_TERMS, and the 64-node tensor-product fallback is off by a few percent (4%
    measured here) — still enough to catch a wrong factor or a transposed operand.
    """
    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    exact = mlp_kernels(x, hidden_layers=2, activation=activation, w_std=1.2, b_std=0.2)
    fn = {"relu": torch.relu, "erf": torch.erf}[activation]
    numeric = mlp_kernels(x, hidden_layers=2, activation=lambda t: fn(t), w_std=1.2, b_std=0.2)
    tol = 1e-9 if activation == "erf" else 0.1
    assert_close(numeric.ntk, exact.ntk, rtol=tol)
    assert_close(numeric.nngp, exact.nngp, rtol=tol)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_blocked_equals_unblocked_and_x2_path(monkeypatch, activation):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(11, 3, generator=g, dtype=torch.float64)
    whole = mlp_kernels(x, hidden_layers=2, activation=activation, b_std=0.1)
    monkeypatch.setattr(_mlp, "BLOCK_ENTRIES", 20)  # 1-2 rows per block
    blocked = mlp_kernels(x, hidden_layers=2, activation=activation, b_std=0.1)
    general = mlp_kernels(x, x.clone(), hidden_layers=2, activation=activation, b_std=0.1)
    for a, b in ((blocked, whole), (general, whole)):
        assert_close(a.nngp, b.nngp, rtol=1e-12)
        assert_close(a.ntk, b.ntk, rtol=1e-12)
    assert torch.equal(blocked.ntk, blocked.ntk.T)


def test_float32_tracks_float64():
    x = torch.randn(20, 8, dtype=torch.float64)
    k64 = mlp_kernels(x, hidden_layers=3, activation="relu", w_std=1.5, b_std=0.05)
    k32 = mlp_kernels(x.float(), hidden_layers=3, activation="relu", w_std=1.5, b_std=0.05)
    assert k32.ntk.dtype == torch.float32
    # arccos near the diagonal amplifies float32 rounding (BASELINES W2: up to 4.5e-4 relative)
    assert (k32.ntk.double() - k64.ntk).abs().max() / k64.ntk.abs().max() < 1e-3


@pytest.mark.parametrize(
    "bad",
    [
        dict(hidden_layers=-1),
        dict(hidden_layers=1.5),
        dict(w_std=-1.0),
        dict(activation="swish"),
        dict(parametrization="mup"),
        dict(parametrization="standard"),
    ],
)
def test_bad_arguments_raise(bad):
    kw = dict(hidden_layers=2, activation="relu") | bad
    with pytest.raises(ValueError):
        mlp_kernels(torch.randn(3, 2, dtype=torch.float64), **kw)


def test_mismatched_inputs_raise():
    with pytest.raises(ValueError):
        mlp_kernels(torch.randn(3, 2), torch.randn(3, 4), hidden_layers=1, activation="relu")
    with pytest.raises(ValueError):
        mlp_kernels(torch.randn(3, 2, dtype=torch.float16), hidden_layers=1, activation="relu")


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 6),
    d=st.integers(1, 4),
    depth=st.integers(0, 3),
    activation=st.sampled_from(["relu", "erf", "identity", "gelu", "sin", "softplus", "sigmoid"]),
    w_std=st.floats(0.3, 1.6),
    b_std=st.floats(0.0, 0.5),
)
def test_kernels_are_symmetric_psd(seed, n, d, depth, activation, w_std, b_std):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    k = mlp_kernels(x, hidden_layers=depth, activation=activation, w_std=w_std, b_std=b_std)
    for mat in k:
        assert torch.equal(mat, mat.T)
        lam = torch.linalg.eigvalsh(mat)
        assert lam[0] >= -1e-10 * max(lam[-1].item(), 1e-300)


# --- Monte Carlo over wide finite networks -------------------------------------------------

MC_Z = 5.0
"""Allowed distance from theory in standard errors of the Monte-Carlo mean (seed-to-seed
spread / √seeds): a 5σ band fails by chance with probability ~6e-7 per entry."""


def _mc_band(samples: torch.Tensor, width: int, theory: torch.Tensor) -> None:
    """Assert ``|mean − theory| ≤ MC_Z·SE + bias`` entrywise; the finite-width bias of both
    kernels is O(1/width) (Hanin & Nica 2020), bounded here by ``4/width · max|theory|``."""
    mean = samples.mean(0)
    se = samples.std(0) / math.sqrt(samples.shape[0])
    bound = MC_Z * se + 4.0 / width * theory.abs().max()
    excess = (mean - theory).abs() - bound
    assert bool((excess <= 0).all()), (
        f"max excess {excess.max().item():.3g}; mean {mean}, theory {theory}"
    )


def test_nngp_is_the_output_covariance_of_wide_random_nets():
    """E[f(x) f(x')] over initializations; each net gives 64 outputs (independent given the
    hidden layers), 48 nets: the seed-to-seed spread carries the hidden-layer fluctuations."""
    width, seeds, outs = 512, 48, 64
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 3, generator=g, dtype=torch.float64)
    theory = mlp_kernels(x, hidden_layers=2, activation="tanh", w_std=1.4, b_std=0.3).nngp
    est = []
    for _ in range(seeds):
        net = MLP(
            3,
            (width, width),
            outs,
            activation="tanh",
            parametrization="ntk",
            w_std=1.4,
            b_std=0.3,
            generator=g,
        ).double()
        with torch.no_grad():
            f = net(x)  # (n, outs)
        est.append(f @ f.T / outs)
    _mc_band(torch.stack(est), width, theory)


def test_ntk_is_the_mean_empirical_ntk_of_wide_random_nets():
    width, seeds = 512, 16
    g = torch.Generator().manual_seed(6)
    x = torch.randn(4, 3, generator=g, dtype=torch.float64)
    theory = mlp_kernels(x, hidden_layers=2, activation="relu", w_std=1.3, b_std=0.2).ntk
    est = []
    for _ in range(seeds):
        net = MLP(
            3,
            (width, width),
            1,
            activation="relu",
            parametrization="ntk",
            w_std=1.3,
            b_std=0.2,
            generator=g,
        ).double()
        est.append(empirical_ntk(net, x))
    _mc_band(torch.stack(est), width, theory)

"""Tversky similarity against a direct, loop-by-loop transcription of the paper's sums."""

from __future__ import annotations

import itertools

import pytest
import torch

from gdlab.models import TverskyProjection
from gdlab.models.tversky import salience, tversky_similarity

SIM_RTOL = 1e-12
"""Vectorized sums vs Python loops over the same float64 terms: order of summation only."""


def loop_similarity(a, b, feats, alpha, beta, theta, intersection, difference):
    """S(a, b) = θ f(A∩B) − α f(A−B) − β f(B−A), one feature at a time (paper's eqs.)."""
    psi = {"product": lambda x, y: x * y, "min": min, "max": max,
           "mean": lambda x, y: (x + y) / 2}[intersection]

    def diff(x, y):
        total = 0.0
        for f in feats:
            sx, sy = float(x @ f), float(y @ f)
            if difference == "ignorematch" and sx > 0 and not sy > 0:
                total += sx
            if difference == "substractmatch" and sx > 0 and sy > 0 and sx > sy:
                total += sx - sy
        return total

    common = 0.0
    for f in feats:
        sa, sb = float(a @ f), float(b @ f)
        if sa > 0 and sb > 0:
            common += psi(sa, sb)
    return theta * common - alpha * diff(a, b) - beta * diff(b, a)


@pytest.mark.parametrize("intersection,difference", list(itertools.product(
    ["product", "min", "max", "mean"], ["ignorematch", "substractmatch"])))
def test_similarity_matches_loop_transcription(intersection, difference):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4, 3, generator=g, dtype=torch.float64)
    b = torch.randn(5, 3, generator=g, dtype=torch.float64)
    feats = torch.randn(7, 3, generator=g, dtype=torch.float64)
    s = tversky_similarity(a, b, feats, alpha=0.3, beta=0.8, theta=1.7,
                           intersection=intersection, difference=difference)
    for i, j in itertools.product(range(4), range(5)):
        ref = loop_similarity(a[i], b[j], feats, 0.3, 0.8, 1.7, intersection, difference)
        assert float(s[i, j]) == pytest.approx(ref, rel=SIM_RTOL, abs=1e-13)


def test_salience_and_asymmetry():
    g = torch.Generator().manual_seed(1)
    a = torch.randn(3, 4, generator=g, dtype=torch.float64)
    feats = torch.randn(6, 4, generator=g, dtype=torch.float64)
    ref = torch.tensor([sum(max(float(x @ f), 0.0) for f in feats) for x in a],
                       dtype=torch.float64)
    torch.testing.assert_close(salience(a, feats), ref)
    s = tversky_similarity(a, a, feats, alpha=0.2, beta=0.9, theta=1.0)
    assert not torch.allclose(s, s.T)
    sym = tversky_similarity(a, a, feats, alpha=0.5, beta=0.5, theta=1.0)
    torch.testing.assert_close(sym, sym.T)


def test_projection_layer_outputs_similarity_to_each_prototype_and_learns():
    layer = TverskyProjection(3, num_prototypes=4, num_features=5,
                              generator=torch.Generator().manual_seed(2)).double()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():  # signed prototypes, so that every measure has present features
        layer.prototypes.copy_(torch.randn(4, 3, generator=g, dtype=torch.float64))
    x = torch.randn(2, 6, 3, generator=g, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (2, 6, 4)
    ref = tversky_similarity(x.reshape(-1, 3), layer.prototypes, layer.features,
                             alpha=layer.alpha, beta=layer.beta, theta=layer.theta)
    torch.testing.assert_close(y.reshape(-1, 4), ref)
    y.sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("kwargs", [
    {"num_features": 0}, {"intersection": "gmean"}, {"difference": "xor"}])
def test_bad_arguments_raise(kwargs):
    args = {"in_features": 2, "num_prototypes": 2, "num_features": 3, **kwargs}
    with pytest.raises(ValueError):
        TverskyProjection(**args)

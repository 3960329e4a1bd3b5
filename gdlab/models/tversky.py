"""Tversky similarity and the Tversky projection layer (Doumbouya, Jurafsky, Manning 2025).

'Tversky neural networks: psychologically plausible deep learning with differentiable
Tversky similarity', arXiv:2506.11035. An object ``a ∈ R^d`` is also a set of features
from a learned bank ``Ω = {f_k}``: ``A = {f_k : a·f_k > 0}``, each present feature
weighted by its score ``a·f_k``. Tversky's contrast model (1977) compares two objects by
their common and distinctive features:

.. math::
    S(a, b) = θ\\,f(A ∩ B) − α\\,f(A − B) − β\\,f(B − A)

with, summing over the bank (the paper's eqs. for salience, intersection and difference):

.. math::
    f(A) = \\sum_k (a·f_k)\\,1[a·f_k > 0]
.. math::
    f(A ∩ B) = \\sum_k Ψ(a·f_k, b·f_k)\\,1[a·f_k > 0,\\ b·f_k > 0]
.. math::
    f(A − B) = \\sum_k (a·f_k)\\,1[a·f_k > 0,\\ b·f_k ≤ 0]
    \\quad\\text{(ignorematch)}
.. math::
    f(A − B) = \\sum_k (a·f_k − b·f_k)\\,1[a·f_k > 0,\\ b·f_k > 0,\\ a·f_k > b·f_k]
    \\quad\\text{(substractmatch)}

``Ψ`` is product (the paper's default), min, max or mean. The indicators are constants
for differentiation, so gradients flow through the scores of present features (like a
ReLU). The projection layer outputs ``y_j = S(x, π_j)`` for learned prototypes ``π_j``.

Where the authors' released code (``tversky/differentiable_tversky.py``) differs: for
min/max/mean it applies Ψ to the two sums ``Σ_k (a·f_k)1[a, b present]`` and
``Σ_k (b·f_k)1[a, b present]`` rather than per feature, and its substractmatch adds the
ignorematch term and compares those sums; product and ignorematch (the defaults) agree.
This module follows the paper's per-feature definitions.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

Intersection = Literal["product", "min", "max", "mean"]
Difference = Literal["ignorematch", "substractmatch"]
INTERSECTIONS = ("product", "min", "max", "mean")
DIFFERENCES = ("ignorematch", "substractmatch")


def feature_scores(x: Tensor, features: Tensor) -> Tensor:
    """Scores ``a·f_k`` of every object and feature: ``(..., d)``, ``(K, d)`` → ``(..., K)``."""
    return x @ features.mT


def salience(x: Tensor, features: Tensor) -> Tensor:
    """``f(A) = Σ_k (a·f_k) 1[a·f_k > 0]``: ``(..., d)`` → ``(...)``."""
    return torch.relu(feature_scores(x, features)).sum(-1)


def _present(scores: Tensor) -> Tensor:
    return (scores > 0).to(scores.dtype)


def intersection_measure(sa: Tensor, sb: Tensor, reduction: Intersection = "product") -> Tensor:
    """``f(A ∩ B)`` from scores ``sa (n, K)``, ``sb (m, K)`` → ``(n, m)``."""
    pa, pb = _present(sa), _present(sb)
    if reduction == "product":
        return (sa * pa) @ (sb * pb).mT
    a, b = sa.unsqueeze(-2), sb.unsqueeze(-3)  # (n, 1, K), (1, m, K)
    both = pa.unsqueeze(-2) * pb.unsqueeze(-3)
    if reduction == "min":
        psi = torch.minimum(a, b)
    elif reduction == "max":
        psi = torch.maximum(a, b)
    elif reduction == "mean":
        psi = (a + b) / 2
    else:
        raise ValueError(f"intersection must be one of {INTERSECTIONS}, got {reduction!r}")
    return (psi * both).sum(-1)


def difference_measure(sa: Tensor, sb: Tensor, reduction: Difference = "ignorematch") -> Tensor:
    """``f(A − B)`` from scores ``sa (n, K)``, ``sb (m, K)`` → ``(n, m)``."""
    pa, pb = _present(sa), _present(sb)
    if reduction == "ignorematch":
        return (sa * pa) @ (1 - pb).mT
    if reduction == "substractmatch":
        a, b = sa.unsqueeze(-2), sb.unsqueeze(-3)
        larger = pa.unsqueeze(-2) * pb.unsqueeze(-3) * (a > b).to(sa.dtype)
        return ((a - b) * larger).sum(-1)
    raise ValueError(f"difference must be one of {DIFFERENCES}, got {reduction!r}")


def tversky_similarity(
    a: Tensor,
    b: Tensor,
    features: Tensor,
    *,
    alpha: Tensor | float,
    beta: Tensor | float,
    theta: Tensor | float,
    intersection: Intersection = "product",
    difference: Difference = "ignorematch",
) -> Tensor:
    """``S(a_i, b_j) = θ f(A∩B) − α f(A−B) − β f(B−A)`` for all pairs.

    Args:
        a: ``(n, d)`` objects.
        b: ``(m, d)`` objects (e.g. prototypes).
        features: ``(K, d)`` feature bank ``Ω``.
        alpha, beta, theta: contrast-model weights (scalars, learnable or not).
        intersection: ``Ψ`` of the common-feature measure.
        difference: distinctive-feature measure.

    Returns:
        ``(n, m)`` similarities; asymmetric unless ``α = β``.
    """
    sa, sb = feature_scores(a, features), feature_scores(b, features)
    common = intersection_measure(sa, sb, intersection)
    a_only = difference_measure(sa, sb, difference)
    b_only = difference_measure(sb, sa, difference).mT
    return theta * common - alpha * a_only - beta * b_only


class TverskyProjection(nn.Module):
    """``y_j = S(x, π_j)``: a drop-in for ``nn.Linear(in_features, num_prototypes)``.

    Parameters: prototypes ``π (P, d)``, feature bank ``Ω (K, d)``, scalars ``α, β, θ``.
    Initialization follows the authors' code: prototypes and features uniform on
    ``[0, 1)``, ``θ = 1``, ``α = β = 0.5`` (all learnable).

    Args:
        in_features: ``d``.
        num_prototypes: ``P`` (outputs; the classes, for a classifier head).
        num_features: ``K``, the size of the feature bank.
        intersection, difference: see `tversky_similarity`.
        generator: for the initialization.

    Example:
        >>> layer = TverskyProjection(2, num_prototypes=2, num_features=8)
        >>> layer(torch.rand(5, 2)).shape
        torch.Size([5, 2])
    """

    def __init__(
        self,
        in_features: int,
        num_prototypes: int,
        num_features: int,
        *,
        intersection: Intersection = "product",
        difference: Difference = "ignorematch",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        for name, v in [("in_features", in_features), ("num_prototypes", num_prototypes),
                        ("num_features", num_features)]:
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if intersection not in INTERSECTIONS:
            raise ValueError(f"intersection must be one of {INTERSECTIONS}, got {intersection!r}")
        if difference not in DIFFERENCES:
            raise ValueError(f"difference must be one of {DIFFERENCES}, got {difference!r}")
        self.intersection, self.difference = intersection, difference
        self.prototypes = nn.Parameter(torch.rand(num_prototypes, in_features, generator=generator))
        self.features = nn.Parameter(torch.rand(num_features, in_features, generator=generator))
        self.theta = nn.Parameter(torch.tensor(1.0))
        self.alpha = nn.Parameter(torch.tensor(0.5))
        self.beta = nn.Parameter(torch.tensor(0.5))

    def forward(self, x: Tensor) -> Tensor:
        """``x (..., d)`` → ``(..., P)``."""
        lead = x.shape[:-1]
        flat = x.reshape(-1, x.shape[-1])
        y = tversky_similarity(flat, self.prototypes, self.features, alpha=self.alpha,
                               beta=self.beta, theta=self.theta,
                               intersection=self.intersection, difference=self.difference)
        return y.reshape(*lead, -1)

    def extra_repr(self) -> str:
        p, d = self.prototypes.shape
        return (f"in={d}, prototypes={p}, features={self.features.shape[0]}, "
                f"intersection={self.intersection}, difference={self.difference}")

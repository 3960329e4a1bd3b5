"""Losses as functions of (prediction, target), with the conventions theory papers use."""

from __future__ import annotations

from torch import Tensor
from torch.nn import functional as F


def mse(pred: Tensor, target: Tensor) -> Tensor:
    """``½ · mean_i ‖f(x_i) − y_i‖²``; the ½ makes the output Hessian the identity / n."""
    return 0.5 * (pred - target.reshape(pred.shape)).pow(2).sum() / pred.shape[0]


def logistic(margin_or_pred: Tensor, y: Tensor | None = None) -> Tensor:
    """``mean_i log(1 + exp(−y_i f(x_i)))`` for labels ``y ∈ {−1, +1}``."""
    z = margin_or_pred.reshape(-1) if y is None else margin_or_pred.reshape(-1) * y.reshape(-1)
    return F.softplus(-z).mean()


def cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean softmax cross-entropy; ``labels`` are class indices."""
    return F.cross_entropy(logits, labels)

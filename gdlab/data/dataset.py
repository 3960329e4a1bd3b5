"""The container every generator returns: train/test tensors plus metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor


@dataclass
class Dataset:
    """Train and test tensors with what generated them.

    Attributes:
        x_train: ``(n, d)`` inputs. y_train: ``(n,)`` or ``(n, k)`` targets.
        x_test, y_test: held-out data from the same distribution.
        meta: generator parameters and ground truth (e.g. the teacher ``beta``).
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    meta: dict[str, Any] = field(default_factory=dict)

    def to(self, device=None, dtype=None) -> Dataset:
        """Move tensors (floating ones also to ``dtype``)."""

        def mv(t: Tensor) -> Tensor:
            return t.to(device=device, dtype=dtype if t.is_floating_point() else None)

        return Dataset(mv(self.x_train), mv(self.y_train), mv(self.x_test), mv(self.y_test),
                       dict(self.meta))

    @property
    def n_train(self) -> int:
        """Number of training points."""
        return self.x_train.shape[0]


def split(x: Tensor, y: Tensor, n_train: int, meta: dict | None = None) -> Dataset:
    """First ``n_train`` rows train, the rest test."""
    if not 0 < n_train < x.shape[0]:
        raise ValueError(f"n_train must be in (0, {x.shape[0]}), got {n_train}")
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], dict(meta or {}))


def _check_positive(**kw: float) -> None:
    for k, v in kw.items():
        if not v > 0:
            raise ValueError(f"{k} must be positive, got {v}")


def default_dtype(dtype: torch.dtype | None) -> torch.dtype:
    """``dtype`` or torch's default."""
    return dtype if dtype is not None else torch.get_default_dtype()

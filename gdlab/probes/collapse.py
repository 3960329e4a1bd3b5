"""Neural-collapse metrics NC1-NC4 of last-layer features (Papyan, Han & Donoho 2020).

Notation (Papyan, Han & Donoho, "Prevalence of neural collapse during the terminal phase of
deep learning training", PNAS 117(40), 2020): features ``h_i ∈ R^p`` with labels
``y_i ∈ {0, …, C−1}``, ``N`` points; class means ``μ_c`` and global mean ``μ_G``, the mean
of all features (equal to the mean of the class means for balanced classes);

.. math::
    Σ_W = \\frac{1}{N} \\sum_i (h_i − μ_{y_i})(h_i − μ_{y_i})^T, \\qquad
    Σ_B = \\frac{1}{C} \\sum_c (μ_c − μ_G)(μ_c − μ_G)^T,

and ``Ṁ = [μ_c − μ_G]_c`` (``C × p`` here, one row per class). Each metric below pins the
quantity of one of that paper's figures; all are 0 at exact collapse onto a simplex ETF.

* **NC1** (Fig. 6) ``Tr(Σ_W Σ_B^†)/C``. Variants: ``Tr(Σ_W)/Tr(Σ_B)`` (Zhu et al. 2021;
  Tirer & Bruna 2022), the class-distance normalized variance (Galanti et al. 2022).
* **NC2** (Fig. 4, "approach to maximal-angle equiangularity")
  ``Avg_{c≠c'} |cos(μ_c − μ_G, μ_{c'} − μ_G) + 1/(C−1)|``. Variants: the equinorm ratio
  ``Std_c ‖μ_c − μ_G‖ / Avg_c ‖μ_c − μ_G‖`` (Fig. 2, `equinorm`), the standard deviation of
  the cosines (Fig. 3), the Frobenius distance of the normalized Gram matrix to the ETF Gram
  (Zhu et al. 2021). `mean_pairwise_cosine` gives the average cosine itself (→ −1/(C−1)).
* **NC3** (Fig. 5, self-duality) ``‖Wᵀ/‖W‖_F − Ṁᵀ/‖Ṁ‖_F‖_F²`` for the classifier
  ``W: (C, p)``; in ``[0, 4]``. Variants: unsquared, or with ``W`` centred as well.
* **NC4** (Fig. 7) the fraction of points where the network's prediction
  ``argmax_c (W h + b)_c`` differs from the nearest class centre ``argmin_c ‖h − μ_c‖``.
  Papyan et al. report it on the training set; any set works here (means from ``h, y``).

Shapes: ``h: (N, p)`` float, ``y: (N,)`` integer labels in ``0..C−1`` with every class present.
Computations run in float64.
"""

from __future__ import annotations

import torch
from torch import Tensor

# Singular values of Ṁ below this fraction of the largest count as zero in Σ_B^†: for balanced
# classes Σ_B has rank ≤ C−1 exactly and rounding leaves a C-th singular value ~1e-16 relative
# (computed in float64 even for float32 features), far below 1e-9; genuine between-class
# directions sit far above it.
PINV_RTOL = 1e-9


def _check(h: Tensor, y: Tensor, num_classes: int | None) -> tuple[Tensor, Tensor, int]:
    if h.ndim != 2:
        raise ValueError(f"features must be (N, p), got shape {tuple(h.shape)}")
    if y.ndim != 1 or y.shape[0] != h.shape[0]:
        raise ValueError(f"labels must be (N,) = ({h.shape[0]},), got {tuple(y.shape)}")
    if y.is_floating_point():
        raise ValueError("labels must be integer class indices, not floats")
    c = int(y.max()) + 1 if num_classes is None else int(num_classes)
    counts = torch.bincount(y.long(), minlength=c)
    if int(y.min()) < 0 or counts.shape[0] != c or bool((counts == 0).any()):
        raise ValueError(f"labels must cover every class 0..{c - 1}; counts {counts.tolist()}")
    if c < 2:
        raise ValueError("neural-collapse metrics need at least two classes")
    return h.detach().double(), y.long(), c


def class_means(h: Tensor, y: Tensor, num_classes: int | None = None) -> tuple[Tensor, Tensor]:
    """Class means ``(C, p)`` and global mean ``μ_G = mean_i h_i`` ``(p,)`` (float64)."""
    h, y, c = _check(h, y, num_classes)
    sums = torch.zeros(c, h.shape[1], dtype=h.dtype).index_add_(0, y, h)
    means = sums / torch.bincount(y, minlength=c)[:, None]
    return means, h.mean(0)


def _centred_means(h: Tensor, y: Tensor, num_classes: int | None) -> Tensor:
    means, mu_g = class_means(h, y, num_classes)
    return means - mu_g  # Ṁ: (C, p)


def nc1(h: Tensor, y: Tensor, num_classes: int | None = None) -> float:
    """Within-class variability relative to between-class: ``Tr(Σ_W Σ_B^†)/C``.

    Computed without forming ``p × p`` matrices: with ``Ṁ = U S Vᵀ``,
    ``Σ_B^† = C · V S^-2 Vᵀ`` on the span of the centred means, so
    ``Tr(Σ_W Σ_B^†)/C = Σ_k ‖(H − μ_y) v_k‖² / (N s_k²)``.
    """
    hh, yy, c = _check(h, y, num_classes)
    means, mu_g = class_means(hh, yy, c)
    m_dot = means - mu_g
    _, s, vh = torch.linalg.svd(m_dot, full_matrices=False)
    keep = s > PINV_RTOL * s[0] if s[0] > 0 else torch.zeros_like(s, dtype=torch.bool)
    if not bool(keep.any()):
        raise ValueError("all class means coincide: Σ_B = 0 and NC1 is undefined")
    resid = hh - means[yy]  # (N, p)
    proj = resid @ vh[keep].T  # (N, k)
    return float((proj.pow(2).sum(0) / s[keep].pow(2)).sum() / hh.shape[0])


def pairwise_cosines(h: Tensor, y: Tensor, num_classes: int | None = None) -> Tensor:
    """``(C, C)`` cosines between globally centred class means ``μ_c − μ_G``."""
    m_dot = _centred_means(h, y, num_classes)
    unit = m_dot / m_dot.norm(dim=1, keepdim=True)
    return unit @ unit.T


def _off_diagonal(a: Tensor) -> Tensor:
    return a[~torch.eye(a.shape[0], dtype=torch.bool)]


def mean_pairwise_cosine(h: Tensor, y: Tensor, num_classes: int | None = None) -> float:
    """Average cosine between distinct centred class means (``−1/(C−1)`` for a simplex ETF)."""
    return float(_off_diagonal(pairwise_cosines(h, y, num_classes)).mean())


def nc2(h: Tensor, y: Tensor, num_classes: int | None = None) -> float:
    """Distance to maximal equiangularity: ``Avg_{c≠c'} |cos(μ̇_c, μ̇_c') + 1/(C−1)|``."""
    cos = pairwise_cosines(h, y, num_classes)
    c = cos.shape[0]
    return float((_off_diagonal(cos) + 1.0 / (c - 1)).abs().mean())


def equinorm(h: Tensor, y: Tensor, num_classes: int | None = None) -> float:
    """Coefficient of variation of the centred class-mean norms (Papyan et al. Fig. 2)."""
    norms = _centred_means(h, y, num_classes).norm(dim=1)
    return float(norms.std(unbiased=True) / norms.mean())


def nc3(h: Tensor, y: Tensor, w: Tensor, num_classes: int | None = None) -> float:
    """Self-duality ``‖Wᵀ/‖W‖_F − Ṁᵀ/‖Ṁ‖_F‖_F²`` for a classifier ``w: (C, p)``."""
    m_dot = _centred_means(h, y, num_classes)
    if w.shape != m_dot.shape:
        raise ValueError(f"classifier must be (C, p) = {tuple(m_dot.shape)}, got {tuple(w.shape)}")
    w = w.detach().double()
    return float((w / w.norm() - m_dot / m_dot.norm()).pow(2).sum())


def ncc_predict(h: Tensor, means: Tensor) -> Tensor:
    """Nearest-class-centre labels ``argmin_c ‖h_i − μ_c‖``: ``(N,)``."""
    return torch.cdist(h.detach().double(), means.double()).argmin(dim=1)


def nc4(h: Tensor, y: Tensor, predictions: Tensor, num_classes: int | None = None) -> float:
    """Fraction of points where the network and the nearest class centre disagree.

    ``predictions`` are the network's labels ``(N,)`` or its logits ``(N, C)``.
    """
    means, _ = class_means(h, y, num_classes)
    pred = predictions.argmax(dim=1) if predictions.ndim == 2 else predictions
    if pred.shape != y.shape:
        raise ValueError(f"predictions must be (N,) or (N, C) with N = {y.shape[0]}")
    return float((ncc_predict(h, means) != pred.long()).double().mean())

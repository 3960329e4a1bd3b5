"""Feature-level probes: how far features moved, how kernels align, how many directions matter.

* `feature_change` — ``‖h_t − h_0‖_F / ‖h_0‖_F``, the feature-learning measure of Yang & Hu
  (2021, TP4): Θ(1) in μP, ∝ n^-1/2 in NTK parametrization.
* `kernel_alignment` — ``⟨K_1, K_2⟩_F / (‖K_1‖_F ‖K_2‖_F)`` (Cristianini, Shawe-Taylor,
  Elisseeff & Kandola 2002); with ``K_2 = y yᵀ`` it is the kernel-target alignment
  (`target_alignment`).
* `centered_alignment` — the same after centring both kernels, ``K ↦ HKH`` with
  ``H = I − 11ᵀ/n`` (Cortes, Mohri & Rostamizadeh 2012). It equals CKA (Kornblith, Norouzi,
  Lee & Hinton 2019) with the biased HSIC estimator; `cka` computes it from features.
* `effective_rank` — ``exp(−Σ_k p_k log p_k)`` with ``p_k = σ_k / Σ_j σ_j`` over singular
  values (Roy & Vetterli 2007). Variants: `participation_ratio` ``(Σσ²)²/Σσ⁴`` (of the
  covariance eigenvalues σ²) and the stable rank ``‖X‖_F²/‖X‖_2²``; all equal ``k`` for ``k``
  equal singular values.

Shapes: features ``(n, p)``; kernels ``(n, n)``. Computations run in float64.
"""

from __future__ import annotations

import torch
from torch import Tensor


def feature_change(h0: Tensor, h1: Tensor) -> float:
    """Relative change ``‖h1 − h0‖_F / ‖h0‖_F`` of features (any equal shapes)."""
    if h0.shape != h1.shape:
        raise ValueError(f"shapes differ: {tuple(h0.shape)} vs {tuple(h1.shape)}")
    ref = h0.detach().double().norm()
    if ref == 0:
        raise ValueError("initial features are zero; the relative change is undefined")
    return float((h1.detach().double() - h0.detach().double()).norm() / ref)


def gram(x: Tensor) -> Tensor:
    """Linear kernel ``X Xᵀ`` of features ``x: (n, p)``: ``(n, n)`` float64."""
    if x.ndim != 2:
        raise ValueError(f"features must be (n, p), got shape {tuple(x.shape)}")
    x = x.detach().double()
    return x @ x.T


def center_kernel(k: Tensor) -> Tensor:
    """``H K H`` with ``H = I − 11ᵀ/n`` (subtract row and column means, add back the mean)."""
    _check_kernel(k)
    k = k.detach().double()
    return k - k.mean(0, keepdim=True) - k.mean(1, keepdim=True) + k.mean()


def kernel_alignment(k1: Tensor, k2: Tensor) -> float:
    """Uncentred alignment ``⟨K1, K2⟩_F / (‖K1‖_F ‖K2‖_F)`` ∈ [−1, 1]."""
    _check_kernel(k1, k2)
    a, b = k1.detach().double(), k2.detach().double()
    denom = a.norm() * b.norm()
    if denom == 0:
        raise ValueError("a kernel is zero; alignment is undefined")
    return float((a * b).sum() / denom)


def centered_alignment(k1: Tensor, k2: Tensor) -> float:
    """Alignment of the centred kernels, ``A(HK1H, HK2H)`` (= CKA with biased HSIC)."""
    return kernel_alignment(center_kernel(k1), center_kernel(k2))


def cka(x: Tensor, y: Tensor) -> float:
    """Linear CKA of features ``x: (n, p)`` and ``y: (n, q)`` (same ``n`` rows).

    .. math:: \\mathrm{CKA}(X, Y) = \\frac{‖Ỹ^T X̃‖_F^2}{‖X̃^T X̃‖_F ‖Ỹ^T Ỹ‖_F}

    with column-centred ``X̃, Ỹ`` (Kornblith et al. 2019, Eq. for linear CKA). Invariant to
    orthogonal transforms and isotropic scaling of either argument.
    """
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"need (n, p) and (n, q) features, got {tuple(x.shape)}, {tuple(y.shape)}")
    xc = x.detach().double() - x.detach().double().mean(0)
    yc = y.detach().double() - y.detach().double().mean(0)
    denom = (xc.T @ xc).norm() * (yc.T @ yc).norm()
    if denom == 0:
        raise ValueError("features are constant across rows; CKA is undefined")
    return float((yc.T @ xc).pow(2).sum() / denom)


def label_kernel(y: Tensor) -> Tensor:
    """``Y Yᵀ`` for labels: ``±1`` or real targets ``(n,)``/``(n, k)``; class indices
    (integer ``(n,)``) become one-hot rows, so the kernel is 1 within a class, 0 across."""
    if not y.is_floating_point():
        y = torch.nn.functional.one_hot(y.long()).double()
    y = y.detach().double()
    y = y[:, None] if y.ndim == 1 else y
    return y @ y.T


def target_alignment(k: Tensor, y: Tensor, *, centered: bool = False) -> float:
    """Kernel-target alignment ``A(K, Y Yᵀ)`` (centred with ``centered=True``)."""
    ky = label_kernel(y)
    return centered_alignment(k, ky) if centered else kernel_alignment(k, ky)


def singular_values(x: Tensor) -> Tensor:
    """Singular values of a matrix, float64, descending."""
    if x.ndim != 2:
        raise ValueError(f"need a matrix, got shape {tuple(x.shape)}")
    return torch.linalg.svdvals(x.detach().double())


def effective_rank(x: Tensor) -> float:
    """Roy & Vetterli (2007) effective rank ``exp(H(σ/Σσ))`` of a matrix ``x``."""
    s = singular_values(x)
    total = s.sum()
    if total == 0:
        raise ValueError("zero matrix: effective rank undefined")
    p = s[s > 0] / total
    return float(torch.exp(-(p * p.log()).sum()))


def participation_ratio(x: Tensor) -> float:
    """``(Σ_k σ_k²)² / Σ_k σ_k⁴`` of a matrix's singular values (of ``λ = σ²``)."""
    lam = singular_values(x).pow(2)
    if lam.sum() == 0:
        raise ValueError("zero matrix: participation ratio undefined")
    return float(lam.sum().pow(2) / lam.pow(2).sum())


def _check_kernel(*ks: Tensor) -> None:
    for k in ks:
        if k.ndim != 2 or k.shape[0] != k.shape[1]:
            raise ValueError(f"kernels must be square (n, n), got {tuple(k.shape)}")
    if len({tuple(k.shape) for k in ks}) > 1:
        raise ValueError(f"kernel shapes differ: {[tuple(k.shape) for k in ks]}")

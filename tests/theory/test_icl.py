import pytest
import torch

from gdlab.theory import one_step_gd_predict, preconditioner


def test_preconditioner_formula():
    cov = torch.diag(torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64))
    gam = preconditioner(cov, 10)
    expected = 1.1 * cov + 3.5 / 10 * torch.eye(3, dtype=torch.float64)
    assert torch.allclose(gam, expected)


def test_gamma_inverse_is_the_optimal_linear_in_context_predictor():
    """Independent reference: fit A in ŷ = x_qᵀ A h, h = (1/N)Σ y_i x_i, by least squares
    on many sampled prompts; the optimum must be Γ⁻¹ (Ahn et al. 2023, Thm 1)."""
    g = torch.Generator().manual_seed(0)
    d, n, b = 3, 8, 400_000
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    cov = q @ torch.diag(torch.tensor([3.0, 1.0, 0.2], dtype=torch.float64)) @ q.T
    chol = torch.linalg.cholesky(cov)
    x = torch.randn(b, n + 1, d, generator=g, dtype=torch.float64) @ chol.T
    w = torch.randn(b, d, generator=g, dtype=torch.float64)
    y = torch.einsum("bnd,bd->bn", x, w)
    h = torch.einsum("bn,bnd->bd", y[:, :n], x[:, :n]) / n
    feats = (x[:, n, :, None] * h[:, None, :]).reshape(b, d * d)  # ŷ = Σ_jk x_qj A_jk h_k
    a_fit = torch.linalg.lstsq(feats, y[:, n, None]).solution.reshape(d, d)
    a_theory = torch.linalg.inv(preconditioner(cov, n))
    rel = ((a_fit - a_theory).norm() / a_theory.norm()).item()
    assert rel < 0.03, rel
    # A wrong formula (no tr(Λ)/N term) is far off at this N.
    wrong = torch.linalg.inv((1 + 1 / n) * cov)
    assert ((a_fit - wrong).norm() / wrong.norm()).item() > 0.15


def test_one_step_predict_shapes_and_plain_gd():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 6, 2, generator=g)
    y = torch.randn(4, 6, generator=g)
    xq = torch.randn(4, 2, generator=g)
    plain = one_step_gd_predict(x, y, xq, None)
    manual = (xq * (y[..., None] * x).mean(1)).sum(-1)
    assert torch.allclose(plain, manual)
    with pytest.raises(ValueError):
        preconditioner(torch.ones(2, 3), 4)

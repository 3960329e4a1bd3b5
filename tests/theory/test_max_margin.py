import numpy as np
import pytest
import scipy.optimize
import torch

from gdlab.data import linear_separable
from gdlab.theory import hard_margin_svm, margin


def _scipy_svm(x, y):
    """Independent reference: the SVM dual min ½αᵀQα − 1ᵀα, α ≥ 0 (Q = ZZᵀ, Z rows y_i x_i)
    by L-BFGS-B with bounds; w = Zᵀα."""
    z = (y[:, None] * x).numpy()
    q = z @ z.T
    res = scipy.optimize.minimize(lambda a: (0.5 * a @ q @ a - a.sum(), q @ a - 1), np.zeros(len(z)),
                                  jac=True, bounds=[(0, None)] * len(z), method="L-BFGS-B",
                                  options={"ftol": 1e-16, "gtol": 1e-12, "maxiter": 100_000})
    return torch.tensor(z.T @ res.x)


@pytest.mark.parametrize("seed,n,d", [(0, 40, 5), (1, 30, 3), (2, 80, 10), (3, 12, 20)])
def test_matches_independent_solvers(seed, n, d):
    data = linear_separable(n, d, margin=0.05, generator=torch.Generator().manual_seed(seed),
                            dtype=torch.float64)
    x, y = data.x_train, data.y_train
    w = hard_margin_svm(x, y)
    # KKT: all margins >= 1, the smallest equals 1.
    m = y * (x @ w)
    assert m.min().item() == pytest.approx(1.0, abs=1e-9)
    ref = _scipy_svm(x, y)
    assert torch.allclose(w, ref, rtol=1e-5, atol=1e-6)
    sk = pytest.importorskip("sklearn.svm")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = sk.LinearSVC(loss="hinge", fit_intercept=False, C=1e8, dual=True, max_iter=200_000,
                           tol=1e-12).fit(x.numpy(), y.numpy())
    w_sk = torch.tensor(clf.coef_[0])
    cos = (w @ w_sk / (w.norm() * w_sk.norm())).item()
    assert cos > 1 - 1e-6
    assert margin(x, y, w) == pytest.approx(1 / w.norm().item(), rel=1e-9)


def test_two_point_closed_form():
    x = torch.tensor([[2.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([1.0, 1.0], dtype=torch.float64)
    # min ½‖w‖² s.t. 2 w1 ≥ 1, −w2 ≥ 1: both constraints active, w = (1/2, −1).
    w = hard_margin_svm(x, y)
    assert torch.allclose(w, torch.tensor([0.5, -1.0], dtype=torch.float64), atol=1e-12)


def test_inseparable_and_bad_labels():
    x = torch.tensor([[1.0], [1.0]])
    with pytest.raises(ValueError, match="not linearly separable"):
        hard_margin_svm(x, torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="labels"):
        hard_margin_svm(x, torch.tensor([1.0, 0.0]))

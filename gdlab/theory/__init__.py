"""Closed-form predictions: pure functions, no training."""

from gdlab.theory.icl import one_step_gd_predict as one_step_gd_predict
from gdlab.theory.icl import preconditioner as preconditioner
from gdlab.theory.max_margin import hard_margin_svm as hard_margin_svm
from gdlab.theory.max_margin import margin as margin
from gdlab.theory.ridgeless import min_norm_solution as min_norm_solution
from gdlab.theory.ridgeless import ridgeless_risk as ridgeless_risk

__all__ = [
    "hard_margin_svm",
    "margin",
    "min_norm_solution",
    "one_step_gd_predict",
    "preconditioner",
    "ridgeless_risk",
]

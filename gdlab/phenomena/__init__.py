"""The catalog of claims: one module per phenomenon, registered in catalog order.

The protocol (what a module provides) is in `gdlab.phenomena._protocol`; the verdict
machinery in `gdlab.phenomena._verdict`. Modules are imported explicitly below, in the
order of CATALOG.md: no directory scanning.
"""

from gdlab.phenomena._config import config_from_dict as config_from_dict
from gdlab.phenomena._config import config_hash as config_hash
from gdlab.phenomena._config import resolve_config as resolve_config
from gdlab.phenomena._protocol import Phenomenon as Phenomenon
from gdlab.phenomena._protocol import RunContext as RunContext
from gdlab.phenomena._protocol import RunRecord as RunRecord
from gdlab.phenomena._verdict import Check as Check
from gdlab.phenomena._verdict import SeedResult as SeedResult
from gdlab.phenomena._verdict import Verdict as Verdict
from gdlab.phenomena._verdict import check as check
from gdlab.phenomena._verdict import seed_results as seed_results
from gdlab.phenomena.catalog import all_phenomena as all_phenomena
from gdlab.phenomena.catalog import get as get
from gdlab.phenomena.catalog import names as names
from gdlab.phenomena.catalog import register as register

# --- Kernels and the infinite-width limit ---
from gdlab.phenomena import jacot2018_ntk_init  # noqa: E402,F401
from gdlab.phenomena import chizat2019_lazy_training  # noqa: E402,F401
from gdlab.phenomena import lee2019_linearized_dynamics  # noqa: E402,F401
from gdlab.phenomena import rahaman2019_spectral_bias  # noqa: E402,F401
# --- In-context learning ---
from gdlab.phenomena import ahn2023_icl_one_step_gd  # noqa: E402,F401
# --- Implicit bias and large steps ---
from gdlab.phenomena import soudry2018_max_margin  # noqa: E402,F401
from gdlab.phenomena import tyurin2024_logistic_perceptron  # noqa: E402,F401
from gdlab.phenomena import hastie2019_double_descent  # noqa: E402,F401
from gdlab.phenomena import du2018_conservation  # noqa: E402,F401
from gdlab.phenomena import saxe2014_deep_linear  # noqa: E402,F401
# --- Curvature and stability ---
from gdlab.phenomena import cohen2021_edge_of_stability  # noqa: E402,F401
from gdlab.phenomena import granziol2022_batch_hessian_sharpness  # noqa: E402,F401
from gdlab.phenomena import lewkowycz2020_catapult  # noqa: E402,F401
from gdlab.phenomena import foret2021_sam_flatness  # noqa: E402,F401
# --- Feature learning and parametrization ---
from gdlab.phenomena import yang2021_mup_features  # noqa: E402,F401
from gdlab.phenomena import yang2022_mup_transfer  # noqa: E402,F401
from gdlab.phenomena import papyan2020_neural_collapse  # noqa: E402,F401
from gdlab.phenomena import xu2023_xor_benign  # noqa: E402,F401
# --- Optimizers from the seeds ---
from gdlab.phenomena import chen2023_lion_box_constraint  # noqa: E402,F401
from gdlab.phenomena import riedl2023_cbo_global_minimum  # noqa: E402,F401
from gdlab.phenomena import doumbouya2025_tversky_xor  # noqa: E402,F401
from gdlab.phenomena import lau2025_polargrad_muon_floor  # noqa: E402,F401

__all__ = [
    "Check",
    "Phenomenon",
    "RunContext",
    "RunRecord",
    "SeedResult",
    "Verdict",
    "all_phenomena",
    "check",
    "config_from_dict",
    "config_hash",
    "get",
    "names",
    "register",
    "resolve_config",
    "seed_results",
]

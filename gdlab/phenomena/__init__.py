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
from gdlab.phenomena.catalog import all_phenomena as all_phenomena
from gdlab.phenomena.catalog import get as get
from gdlab.phenomena.catalog import names as names
from gdlab.phenomena.catalog import register as register

# --- Kernels and the infinite-width limit ---
# --- In-context learning ---
from gdlab.phenomena import ahn2023_icl_one_step_gd  # noqa: E402,F401
# --- Implicit bias and large steps ---
from gdlab.phenomena import soudry2018_max_margin  # noqa: E402,F401
from gdlab.phenomena import tyurin2024_logistic_perceptron  # noqa: E402,F401
from gdlab.phenomena import hastie2019_double_descent  # noqa: E402,F401
from gdlab.phenomena import du2018_conservation  # noqa: E402,F401
# --- Curvature and stability ---
# --- Feature learning and parametrization ---
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
]

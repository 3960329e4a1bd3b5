"""Curvature of the loss: Hessian/GGN operators, Lanczos, trace, spectral density, sharpness.

Everything is built on `LinearOperator` (a symmetric map on flat parameter vectors with a
product counter): `hessian_operator` / `ggn_operator` give it for a model, a loss and data;
`lanczos_eigsh`, `hutchpp`, `slq_density` work on any operator; `top_eigenvalues`,
`hessian_trace` and `spectral_density` are the one-call forms. `SharpnessProbe` tracks the top
eigenvalue during `gdlab.train.train`.
"""

from gdlab.probes.curvature.density import SpectralDensity as SpectralDensity
from gdlab.probes.curvature.density import slq as slq
from gdlab.probes.curvature.density import slq_density as slq_density
from gdlab.probes.curvature.density import smooth_density as smooth_density
from gdlab.probes.curvature.density import spectral_density as spectral_density
from gdlab.probes.curvature.duality import ggn_eigenvector_from_ntk as ggn_eigenvector_from_ntk
from gdlab.probes.curvature.duality import mse_ggn_eigenvalues as mse_ggn_eigenvalues
from gdlab.probes.curvature.duality import ntk_operator as ntk_operator
from gdlab.probes.curvature.lanczos import EigResult as EigResult
from gdlab.probes.curvature.lanczos import lanczos_eigsh as lanczos_eigsh
from gdlab.probes.curvature.lanczos import lanczos_iterations as lanczos_iterations
from gdlab.probes.curvature.lanczos import top_eigenvalues as top_eigenvalues
from gdlab.probes.curvature.operators import LinearOperator as LinearOperator
from gdlab.probes.curvature.operators import diagonal_congruence as diagonal_congruence
from gdlab.probes.curvature.operators import ggn_operator as ggn_operator
from gdlab.probes.curvature.operators import ggn_vector_product as ggn_vector_product
from gdlab.probes.curvature.operators import hessian_operator as hessian_operator
from gdlab.probes.curvature.operators import hessian_vector_product as hessian_vector_product
from gdlab.probes.curvature.operators import jacobian_products as jacobian_products
from gdlab.probes.curvature.sharpness import SharpnessProbe as SharpnessProbe
from gdlab.probes.curvature.sharpness import StateRecorder as StateRecorder
from gdlab.probes.curvature.sharpness import adam_preconditioner as adam_preconditioner
from gdlab.probes.curvature.trace import TraceEstimate as TraceEstimate
from gdlab.probes.curvature.trace import ggn_trace as ggn_trace
from gdlab.probes.curvature.trace import hessian_trace as hessian_trace
from gdlab.probes.curvature.trace import hutchinson as hutchinson
from gdlab.probes.curvature.trace import hutchpp as hutchpp

__all__ = [
    "EigResult",
    "LinearOperator",
    "SharpnessProbe",
    "SpectralDensity",
    "StateRecorder",
    "TraceEstimate",
    "adam_preconditioner",
    "diagonal_congruence",
    "ggn_eigenvector_from_ntk",
    "ggn_operator",
    "ggn_trace",
    "ggn_vector_product",
    "hessian_operator",
    "hessian_trace",
    "hessian_vector_product",
    "hutchinson",
    "hutchpp",
    "jacobian_products",
    "lanczos_eigsh",
    "lanczos_iterations",
    "mse_ggn_eigenvalues",
    "ntk_operator",
    "slq",
    "slq_density",
    "smooth_density",
    "spectral_density",
    "top_eigenvalues",
]

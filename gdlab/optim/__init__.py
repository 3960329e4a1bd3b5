"""Update rules as pure `init`/`update` functions, their aliases, and a torch.optim adapter.

Every rule is registered below with its source and its update rule in words;
``gdlab list --kind optimizer`` prints them, ``torch_optimizer(name, params, **hyper)`` runs
any gradient rule as a ``torch.optim.Optimizer``. CBO, a particle method, lives in
`gdlab.optim.cbo`.
"""

from gdlab.optim import schedules as schedules
from gdlab.optim._adaptive import adagrad as adagrad
from gdlab.optim._adaptive import diffgrad as diffgrad
from gdlab.optim._adaptive import exadam as exadam
from gdlab.optim._adaptive import scale_by_adagrad as scale_by_adagrad
from gdlab.optim._adaptive import scale_by_diffgrad as scale_by_diffgrad
from gdlab.optim._adaptive import scale_by_exadam as scale_by_exadam
from gdlab.optim._aliases import adam as adam
from gdlab.optim._aliases import adamw as adamw
from gdlab.optim._aliases import gd as gd
from gdlab.optim._aliases import sgd as sgd
from gdlab.optim._base import EmptyState as EmptyState
from gdlab.optim._base import GradientTransformation as GradientTransformation
from gdlab.optim._base import Updates as Updates
from gdlab.optim._base import apply_updates as apply_updates
from gdlab.optim._base import chain as chain
from gdlab.optim._base import identity as identity
from gdlab.optim._base import keeps_lazy as keeps_lazy
from gdlab.optim._base import materialize as materialize
from gdlab.optim._ensemble import vmapped as vmapped
from gdlab.optim._natural import residual_jacobian as residual_jacobian
from gdlab.optim._natural import scale_by_sven as scale_by_sven
from gdlab.optim._natural import sven as sven
from gdlab.optim._normalized import normalized_gd as normalized_gd
from gdlab.optim._normalized import normalized_lr_gd as normalized_lr_gd
from gdlab.optim._normalized import scale_by_global_norm as scale_by_global_norm
from gdlab.optim._normalized import scale_by_logistic_normalizer as scale_by_logistic_normalizer
from gdlab.optim._orthogonal import muon as muon
from gdlab.optim._orthogonal import newton_schulz as newton_schulz
from gdlab.optim._orthogonal import polar_svd as polar_svd
from gdlab.optim._orthogonal import polargrad as polargrad
from gdlab.optim._orthogonal import scale_by_muon as scale_by_muon
from gdlab.optim._orthogonal import scale_by_polargrad as scale_by_polargrad
from gdlab.optim._per_param import scale_by_param as scale_by_param
from gdlab.optim._registry import OptimizerSpec as OptimizerSpec
from gdlab.optim._registry import all_optimizers as all_optimizers
from gdlab.optim._registry import get_optimizer as get_optimizer
from gdlab.optim._registry import optimizer_names as optimizer_names
from gdlab.optim._registry import register_optimizer as register_optimizer
from gdlab.optim._sign import lion as lion
from gdlab.optim._sign import scale_by_lion as scale_by_lion
from gdlab.optim._sign import scale_by_sign as scale_by_sign
from gdlab.optim._sign import sign_descent as sign_descent
from gdlab.optim._torch_adapter import TransformOptimizer as TransformOptimizer
from gdlab.optim._torch_adapter import torch_optimizer as torch_optimizer
from gdlab.optim._transforms import add_weight_decay as add_weight_decay
from gdlab.optim._transforms import decoupled_weight_decay as decoupled_weight_decay
from gdlab.optim._transforms import scale as scale
from gdlab.optim._transforms import scale_by_adam as scale_by_adam
from gdlab.optim._transforms import scale_by_learning_rate as scale_by_learning_rate
from gdlab.optim._transforms import trace as trace
from gdlab.optim.cbo import cbo_minimize as cbo_minimize
from gdlab.optim.sam import sam as sam

register_optimizer(
    "sgd", sgd, source="Robbins & Monro 1951; Polyak 1964; Nesterov 1983 (torch.optim.SGD form)",
    rule="θ ← θ − lr·(g + λθ), with optional heavy-ball/Nesterov momentum",
)
register_optimizer(
    "adam", adam, source="Kingma & Ba 2015, Algorithm 1",
    rule="θ ← θ − lr·m̂/(√v̂ + ε), m, v moving averages of g, g²",
)
register_optimizer(
    "adamw", adamw, source="Loshchilov & Hutter 2019",
    rule="θ ← θ(1 − lr·λ) − lr·m̂/(√v̂ + ε)",
)
register_optimizer(
    "adagrad", adagrad, source="Duchi, Hazan, Singer 2011 (torch.optim.Adagrad form)",
    rule="s ← s + g²; θ ← θ − lr/(1 + (t−1)·lr_decay) · g/(√s + ε)",
)
register_optimizer(
    "sign_descent", sign_descent, source="Bernstein et al. 2018, signSGD / Signum",
    rule="m ← μm + (1−μ)g; θ ← θ(1 − lr·λ) − lr·sign(m)",
)
register_optimizer(
    "normalized_gd", normalized_gd, source="normalized gradient descent (Nesterov 1984; Shor)",
    rule="θ ← θ − lr·g/(‖g‖₂ + ε), norm over all parameters",
)
register_optimizer(
    "normalized_lr_gd", normalized_lr_gd,
    source="Tyurin 2024, 'From logistic regression to the perceptron algorithm', Sec. 6",
    rule="θ ← θ − lr·∇f/mean_i σ(−m_i), margins m_i = y_i a_iᵀθ (step(margins=m))",
)
register_optimizer(
    "lion", lion, source="Chen et al. 2023, 'Symbolic discovery of optimization algorithms'",
    rule="c = β₁m + (1−β₁)g; θ ← θ − lr·(sign(c) + λθ); m ← β₂m + (1−β₂)g",
)
register_optimizer(
    "diffgrad", diffgrad, source="Dubey et al. 2019, 'diffGrad', IEEE TNNLS",
    rule="ξ = sigmoid(|g_{t−1} − g_t|); θ ← θ − lr·ξ·m̂/(√v̂ + ε)",
)
register_optimizer(
    "exadam", exadam, source="Adly 2024, 'EXAdam: the power of adaptive cross-moments'",
    rule="d₁ = 1 + β₂ᵗv/(v+ε), d₂ = 1 + β₁ᵗm²/(m²+ε); θ ← θ − lr·(m̂d₁ + ĝd₁)/(√(v̂d₂) + ε)",
)
register_optimizer(
    "muon", muon, source="Jordan et al. 2024, Muon (torch.optim.Muon form)",
    rule="B ← μB + (1−μ)G; O = NS₅(lerp(G, B, μ)); θ ← θ(1 − lr·λ) − lr·√max(1, r/c)·O",
)
register_optimizer(
    "polargrad", polargrad, source="Lau, Long, Su 2025, 'PolarGrad', arXiv:2505.21799",
    rule="M ← βM + (1−β)G; UH = polar(M); θ ← θ(1 − lr·λ) − lr·tr(H)·U",
)
register_optimizer(
    "sven", sven, source="Bright-Thonney, Harvey, Lukas, Thaler 2026, 'Sven', arXiv:2604.01279",
    rule="θ ← θ − lr·J_k⁺ r over per-sample residuals r (min-norm Gauss–Newton step)",
)
register_optimizer(
    "cbo", cbo_minimize, interface="particles",
    source="Pinnau et al. 2017; Riedl, Klock, Geldhauser, Fornasier 2023",
    rule="v = Σ x e^{−αf}/Σ e^{−αf}; X ← X − λΔt(X − v) + σ√Δt·D(X − v)ξ",
)
register_optimizer(  # a wrapper around a base rule, listed after the rules themselves
    "sam", sam,
    source="Foret, Kleiner, Mobahi & Neyshabur 2021, ICLR, Algorithm 1 (ASAM: Kwon et al. 2021)",
    rule="ε = ρ·g/‖g‖; g_SAM = ∇L(θ + ε); θ ← base(θ, g_SAM) (base: sgd | adam)",
)

__all__ = [
    "EmptyState",
    "GradientTransformation",
    "OptimizerSpec",
    "TransformOptimizer",
    "Updates",
    "adagrad",
    "adam",
    "adamw",
    "add_weight_decay",
    "all_optimizers",
    "apply_updates",
    "cbo",
    "cbo_minimize",
    "chain",
    "decoupled_weight_decay",
    "diffgrad",
    "exadam",
    "gd",
    "get_optimizer",
    "identity",
    "keeps_lazy",
    "lion",
    "materialize",
    "muon",
    "newton_schulz",
    "normalized_gd",
    "normalized_lr_gd",
    "optimizer_names",
    "polar_svd",
    "polargrad",
    "register_optimizer",
    "residual_jacobian",
    "scale",
    "scale_by_adagrad",
    "scale_by_adam",
    "scale_by_diffgrad",
    "scale_by_exadam",
    "scale_by_global_norm",
    "scale_by_learning_rate",
    "scale_by_lion",
    "scale_by_logistic_normalizer",
    "scale_by_muon",
    "scale_by_param",
    "scale_by_polargrad",
    "scale_by_sign",
    "scale_by_sven",
    "schedules",
    "sam",
    "sgd",
    "sign_descent",
    "sven",
    "torch_optimizer",
    "trace",
    "vmapped",
]

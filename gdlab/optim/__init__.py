"""Update rules as pure `init`/`update` functions, their aliases, and a torch.optim adapter."""

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
from gdlab.optim._base import materialize as materialize
from gdlab.optim._registry import OptimizerSpec as OptimizerSpec
from gdlab.optim._registry import all_optimizers as all_optimizers
from gdlab.optim._registry import get_optimizer as get_optimizer
from gdlab.optim._registry import optimizer_names as optimizer_names
from gdlab.optim._registry import register_optimizer as register_optimizer
from gdlab.optim._torch_adapter import TransformOptimizer as TransformOptimizer
from gdlab.optim._torch_adapter import torch_optimizer as torch_optimizer
from gdlab.optim._transforms import add_weight_decay as add_weight_decay
from gdlab.optim._transforms import decoupled_weight_decay as decoupled_weight_decay
from gdlab.optim._transforms import scale as scale
from gdlab.optim._transforms import scale_by_adam as scale_by_adam
from gdlab.optim._transforms import scale_by_learning_rate as scale_by_learning_rate
from gdlab.optim._transforms import trace as trace

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

__all__ = [
    "EmptyState",
    "GradientTransformation",
    "OptimizerSpec",
    "TransformOptimizer",
    "Updates",
    "adam",
    "adamw",
    "add_weight_decay",
    "all_optimizers",
    "apply_updates",
    "chain",
    "decoupled_weight_decay",
    "gd",
    "get_optimizer",
    "identity",
    "materialize",
    "optimizer_names",
    "register_optimizer",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "sgd",
    "torch_optimizer",
    "trace",
]

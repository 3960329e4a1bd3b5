"""Functional core: parameters as dicts of tensors, products, stacking, seeding."""

from gdlab.core.ensemble import ensemble_size as ensemble_size
from gdlab.core.ensemble import stack as stack
from gdlab.core.ensemble import unstack as unstack
from gdlab.core.ensemble import vmap_model as vmap_model
from gdlab.core.functional import bind as bind
from gdlab.core.functional import functionalize as functionalize
from gdlab.core.functional import load_params as load_params
from gdlab.core.products import ggn_vp as ggn_vp
from gdlab.core.products import hvp as hvp
from gdlab.core.products import jvp as jvp
from gdlab.core.products import vjp as vjp
from gdlab.core.seed import derive_seed as derive_seed
from gdlab.core.seed import fork_rng as fork_rng
from gdlab.core.seed import generator as generator
from gdlab.core.tree import FlatSpec as FlatSpec
from gdlab.core.tree import flatten as flatten
from gdlab.core.tree import num_params as num_params
from gdlab.core.tree import tree_add as tree_add
from gdlab.core.tree import tree_detach as tree_detach
from gdlab.core.tree import tree_map as tree_map
from gdlab.core.tree import tree_norm as tree_norm
from gdlab.core.tree import tree_scale as tree_scale
from gdlab.core.tree import tree_sub as tree_sub
from gdlab.core.tree import tree_to as tree_to
from gdlab.core.tree import tree_vdot as tree_vdot
from gdlab.core.tree import tree_zeros_like as tree_zeros_like
from gdlab.core.tree import unflatten as unflatten

__all__ = [
    "FlatSpec",
    "bind",
    "derive_seed",
    "ensemble_size",
    "flatten",
    "fork_rng",
    "functionalize",
    "generator",
    "ggn_vp",
    "hvp",
    "jvp",
    "load_params",
    "num_params",
    "stack",
    "tree_add",
    "tree_detach",
    "tree_map",
    "tree_norm",
    "tree_scale",
    "tree_sub",
    "tree_to",
    "tree_vdot",
    "tree_zeros_like",
    "unflatten",
    "unstack",
    "vmap_model",
]

"""A module as a pure function of its parameters: the one model signature gdlab uses.

``f, params = functionalize(module)`` gives ``f(params, x) -> y`` built on
`torch.func.functional_call`; probes, theory checks and update rules all see models this way.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from gdlab._typing import ModelFn, Params


def functionalize(module: nn.Module, *, detach: bool = True) -> tuple[ModelFn, Params]:
    """Return ``(f, params)`` with ``f(params, *args) == module(*args)``.

    Buffers (e.g. batch-norm statistics) are captured as they are now; parameters become an
    explicit argument so that `torch.func` transforms can differentiate or vmap over them.

    Args:
        module: any ``nn.Module``.
        detach: return detached clones of the parameters (the default), so that functional
            training never mutates the module; ``False`` returns the live ``nn.Parameter``s.

    Returns:
        ``f(params, *args, **kwargs) -> output`` and the parameter dict, keyed by
        ``module.named_parameters()`` names.

    Example:
        >>> lin = nn.Linear(3, 2)
        >>> f, p = functionalize(lin)
        >>> x = torch.randn(4, 3)
        >>> torch.allclose(f(p, x), lin(x))
        True
    """
    params = {
        k: (v.detach().clone() if detach else v) for k, v in module.named_parameters()
    }
    buffers = {k: v for k, v in module.named_buffers()}

    def f(p: Params, *args, **kwargs) -> Tensor:
        return torch.func.functional_call(module, (p, buffers), args, kwargs)

    return f, params


def load_params(module: nn.Module, params: Params) -> nn.Module:
    """Copy ``params`` into ``module``'s parameters in place; returns the module."""
    with torch.no_grad():
        for k, p in module.named_parameters():
            p.copy_(params[k])
    return module


def bind(f: ModelFn, *args, **kwargs) -> Callable[[Params], Tensor]:
    """Fix the inputs: ``bind(f, x)(params) == f(params, x)``."""

    def g(params: Params) -> Tensor:
        return f(params, *args, **kwargs)

    return g

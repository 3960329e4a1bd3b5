"""Curvature as linear operators: Hessian- and GGN-vector products over a model, a loss and data.

Every algorithm in this package (Lanczos, Hutchinson, stochastic Lanczos quadrature) needs only
products ``v ↦ A v`` with a symmetric ``A``; `LinearOperator` is that contract on flat vectors
``(P,)``, with a counter of the products used. The builders below give it for

.. math:: H = \\nabla^2_\\theta L(\\theta), \\qquad
          G = \\sum_c w_c\\, J_c^\\top \\nabla^2_{f} \\ell_c\\, J_c, \\qquad
          L(\\theta) = \\sum_c w_c\\, \\ell_c(f(\\theta, x_c), y_c),

where the data are split into chunks ``c`` (weights ``w_c = n_c/n`` for a mean loss) so that the
memory of one product is that of one chunk.

Why the products are fast on CPU: with one chunk (the default) the gradient graph is built once
with ``create_graph=True`` and every product is a single backward pass through it ("double
backward", as PyHessian does; Pearlmutter 1994). That skips the forward and first backward pass
that forward-over-reverse (``torch.func.jvp(grad)``, `gdlab.core.hvp`) redoes at every product:
about 1.6× cheaper on a 64-512-512-10 MLP (see ``bench/curvature.py``). With ``chunk_size`` the
graphs are rebuilt per chunk and product, so memory stays bounded by one chunk. The operator is a
snapshot: it holds the parameters (and graph) it was built at.

References:
    Pearlmutter, "Fast exact multiplication by the Hessian", Neural Computation 1994.
    Schraudolph, "Fast curvature matrix-vector products for second-order gradient descent", 2002.
    Yao et al., "PyHessian: Neural networks through the lens of the Hessian", 2020.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from gdlab._typing import LossFn, ModelFn, Params
from gdlab.core.functional import functionalize
from gdlab.core.tree import FlatSpec, flatten, unflatten

Matvec = Callable[[Tensor], Tensor]
_Product = Callable[[list[Tensor]], list[Tensor]]


class LinearOperator:
    """A square linear map ``A: (size,) -> (size,)`` given by its product, with a product counter.

    Args:
        matvec: ``v (size,) -> A v (size,)``.
        size: the dimension.
        dtype, device: of the vectors ``matvec`` takes and returns.
        spec: how flat vectors map to a parameter dict (`gdlab.core.FlatSpec`), when they do.

    Attributes:
        num_matvecs: products computed so far (`reset_count` sets it to 0).

    Example:
        >>> A = torch.tensor([[2.0, 1.0], [1.0, 3.0]])
        >>> op = LinearOperator.from_dense(A)
        >>> op @ torch.tensor([1.0, 0.0])
        tensor([2., 1.])
        >>> op.num_matvecs
        1
    """

    def __init__(
        self,
        matvec: Matvec,
        size: int,
        *,
        dtype: torch.dtype,
        device: torch.device | str = "cpu",
        spec: FlatSpec | None = None,
    ):
        if size < 1:
            raise ValueError(f"an operator needs size >= 1, got {size}")
        self._matvec = matvec
        self.size = int(size)
        self.dtype = dtype
        self.device = torch.device(device)
        self.spec = spec
        self.num_matvecs = 0

    @property
    def shape(self) -> tuple[int, int]:
        """``(size, size)``."""
        return (self.size, self.size)

    def matvec(self, v: Tensor) -> Tensor:
        """``A v`` for ``v: (size,)``; counts one product."""
        if v.shape != (self.size,):
            raise ValueError(f"expected a vector of shape ({self.size},), got {tuple(v.shape)}")
        self.num_matvecs += 1
        return self._matvec(v.to(dtype=self.dtype, device=self.device))

    def matmat(self, V: Tensor) -> Tensor:
        """``A V`` column by column for ``V: (size, m)``; counts ``m`` products."""
        if V.ndim != 2 or V.shape[0] != self.size:
            raise ValueError(f"expected a matrix of shape ({self.size}, m), got {tuple(V.shape)}")
        if V.shape[1] == 0:
            return V.new_zeros((self.size, 0), dtype=self.dtype, device=self.device)
        return torch.stack([self.matvec(V[:, j]) for j in range(V.shape[1])], dim=1)

    def __matmul__(self, v: Tensor) -> Tensor:
        return self.matvec(v) if v.ndim == 1 else self.matmat(v)

    def reset_count(self) -> None:
        """Set `num_matvecs` to 0."""
        self.num_matvecs = 0

    def to_dense(self) -> Tensor:
        """The matrix ``(size, size)``, by ``size`` products (for tests and small problems)."""
        eye = torch.eye(self.size, dtype=self.dtype, device=self.device)
        return self.matmat(eye)

    def apply(self, v: Params) -> Params:
        """``A v`` for ``v`` shaped like the parameters (needs `spec`)."""
        if self.spec is None:
            raise ValueError("this operator has no parameter layout; use matvec on flat vectors")
        flat, _ = flatten({k: v[k] for k in self.spec.keys})
        return unflatten(self.matvec(flat), self.spec)

    @classmethod
    def from_dense(cls, A: Tensor) -> LinearOperator:
        """Wrap a dense square matrix ``A: (n, n)``."""
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"from_dense needs a square matrix, got shape {tuple(A.shape)}")
        return cls(lambda v: A @ v, A.shape[0], dtype=A.dtype, device=A.device)

    def __repr__(self) -> str:
        return f"LinearOperator(size={self.size}, dtype={self.dtype}, device={self.device})"


def diagonal_congruence(op: LinearOperator, d: Tensor) -> LinearOperator:
    """``D A D`` with ``D = diag(d)``, ``d: (size,)``.

    With ``d = P^{-1/2}`` for a diagonal preconditioner ``P`` this is the preconditioned
    curvature ``P^{-1/2} H P^{-1/2}``, which has the eigenvalues of ``P^{-1} H``. Each product
    costs one product of ``op`` (both counters advance).
    """
    if d.shape != (op.size,):
        raise ValueError(f"d must have shape ({op.size},), got {tuple(d.shape)}")
    d = d.to(dtype=op.dtype, device=op.device)
    return LinearOperator(lambda v: d * op.matvec(d * v), op.size, dtype=op.dtype,
                          device=op.device, spec=op.spec)


def resolve_model(model: nn.Module | ModelFn, params: Params | None) -> tuple[ModelFn, Params]:
    """``(f, params)`` from an ``nn.Module`` (its parameters unless given) or ``f`` + params."""
    if isinstance(model, nn.Module):
        f, own = functionalize(model)
        return f, (own if params is None else params)
    if not callable(model):
        raise ValueError(f"model must be an nn.Module or f(params, x), got {type(model).__name__}")
    if params is None:
        raise ValueError("a functional model f(params, x) needs params=")
    return model, params


def chunks(x: Tensor, y: Tensor, chunk_size: int | None) -> list[tuple[Tensor, Tensor]]:
    """Split ``(x, y)`` along the first axis into pieces of at most ``chunk_size`` samples."""
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"x has {n} samples but y has {y.shape[0]}")
    if n == 0:
        raise ValueError("no data: x is empty")
    if chunk_size is None or chunk_size >= n:
        return [(x, y)]
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    return list(zip(x.split(chunk_size), y.split(chunk_size), strict=True))


def hessian_operator(
    model: nn.Module | ModelFn,
    loss_fn: LossFn,
    x: Tensor,
    y: Tensor,
    *,
    params: Params | None = None,
    chunk_size: int | None = None,
    reduction: str = "mean",
    reuse_graph: bool | None = None,
) -> LinearOperator:
    """The Hessian ``∇²_θ L`` of ``L = loss_fn(f(θ, x), y)`` as a `LinearOperator` over ``(P,)``.

    Args:
        model: an ``nn.Module`` or ``f(params, x) -> prediction``.
        loss_fn: ``loss_fn(prediction, target) -> scalar``, a mean over samples
            (``reduction="mean"``, as `gdlab.train.losses`) or a sum (``"sum"``).
        x: inputs ``(n, ...)``; y: targets ``(n, ...)``. Chunks move to the parameters' device.
        params: the point ``θ`` (default: the module's parameters).
        chunk_size: samples per chunk; ``None`` puts all data in one chunk.
        reduction: how ``loss_fn`` aggregates samples, so chunks are weighted to give ``L``.
        reuse_graph: keep each chunk's gradient graph and reuse it for every product
            (fastest; memory of all chunks' graphs at once). Default: ``True`` with one chunk,
            ``False`` (rebuild per product, memory of one chunk) with several.

    Returns:
        A `LinearOperator` with ``spec`` mapping flat vectors to ``params``' layout.

    Example:
        Least squares ``L = ½‖X w − y‖²`` has Hessian ``XᵀX``:

        >>> X, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
        >>> w = {"w": torch.zeros(3, dtype=torch.float64)}
        >>> H = hessian_operator(lambda p, x: x @ p["w"], lambda o, t: 0.5 * ((o - t) ** 2).sum(),
        ...                      X, y, params=w, reduction="sum")
        >>> torch.allclose(H.to_dense(), X.T @ X)
        True
    """
    return _build(model, loss_fn, x, y, params, chunk_size, reduction, reuse_graph,
                  _hessian_product)


def ggn_operator(
    model: nn.Module | ModelFn,
    loss_fn: LossFn,
    x: Tensor,
    y: Tensor,
    *,
    params: Params | None = None,
    chunk_size: int | None = None,
    reduction: str = "mean",
    reuse_graph: bool | None = None,
) -> LinearOperator:
    """The generalized Gauss-Newton ``G = Σ_c w_c J_cᵀ ∇²_f ℓ_c J_c`` as a `LinearOperator`.

    ``J_c`` is the Jacobian of the chunk's output ``f(θ, x_c)`` w.r.t. ``θ`` and ``∇²_f ℓ_c`` the
    Hessian of the loss w.r.t. that output. ``G`` is positive semi-definite for convex losses
    (MSE, cross-entropy) and equals the Hessian of a linear model. For ``½·mean‖f − y‖²`` it is
    ``JᵀJ/n``, the dual of the NTK (`gdlab.probes.curvature.duality`). Arguments as in
    `hessian_operator`.
    """
    return _build(model, loss_fn, x, y, params, chunk_size, reduction, reuse_graph, _ggn_product)


def hessian_vector_product(
    model: nn.Module | ModelFn, loss_fn: LossFn, x: Tensor, y: Tensor, v: Params, **kwargs
) -> Params:
    """``∇²L · v`` for one ``v`` shaped like the parameters (keywords as `hessian_operator`)."""
    return hessian_operator(model, loss_fn, x, y, **kwargs).apply(v)


def ggn_vector_product(
    model: nn.Module | ModelFn, loss_fn: LossFn, x: Tensor, y: Tensor, v: Params, **kwargs
) -> Params:
    """``G · v`` for one ``v`` shaped like the parameters (keywords as `ggn_operator`)."""
    return ggn_operator(model, loss_fn, x, y, **kwargs).apply(v)


# --- construction ---------------------------------------------------------------------------

_ChunkProduct = Callable[
    [ModelFn, LossFn, Tensor, Tensor, list[str], list[Tensor], float], _Product]


def _build(model, loss_fn, x, y, params, chunk_size, reduction, reuse_graph, make: _ChunkProduct):
    f, params = resolve_model(model, params)
    if not params:
        raise ValueError("the model has no parameters")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    keys = list(params)
    leaves0 = [params[k].detach() for k in keys]
    dtype, device = leaves0[0].dtype, leaves0[0].device
    if any(t.dtype != dtype for t in leaves0):
        raise ValueError("all parameters must share one dtype")
    if x.is_floating_point() and x.dtype != dtype:
        raise ValueError(f"x is {x.dtype} but the parameters are {dtype}; cast one to the other")
    pieces = chunks(x, y, chunk_size)
    n = x.shape[0]
    weights = [(xc.shape[0] / n if reduction == "mean" else 1.0) for xc, _ in pieces]
    reuse = (len(pieces) == 1) if reuse_graph is None else bool(reuse_graph)
    _, spec = flatten(params)

    def leaves() -> list[Tensor]:
        return [t.detach().requires_grad_(True) for t in leaves0]

    def on_device(t: Tensor) -> Tensor:
        return t.to(device, non_blocking=True)

    if reuse:
        shared = leaves()
        products = [make(f, loss_fn, on_device(xc), on_device(yc), keys, shared, w)
                    for (xc, yc), w in zip(pieces, weights, strict=True)]

        def apply_all(vs: list[Tensor]) -> list[Tensor]:
            return _sum_lists([p(vs) for p in products])
    else:

        def apply_all(vs: list[Tensor]) -> list[Tensor]:
            total = None
            for (xc, yc), w in zip(pieces, weights, strict=True):
                part = make(f, loss_fn, on_device(xc), on_device(yc), keys, leaves(), w)(vs)
                total = part if total is None else _sum_lists([total, part])
            return total  # type: ignore[return-value]

    numels = [t.numel() for t in leaves0]
    shapes = [t.shape for t in leaves0]

    def matvec(v: Tensor) -> Tensor:
        vs = [piece.view(s) for piece, s in zip(v.split(numels), shapes, strict=True)]
        return torch.cat([t.reshape(-1) for t in apply_all(vs)])

    return LinearOperator(matvec, sum(numels), dtype=dtype, device=device, spec=spec)


def _hessian_product(f, loss_fn, xc, yc, keys, leaves, weight) -> _Product:
    """Build chunk ``c``'s gradient graph once; each product is one backward pass through it."""
    with torch.enable_grad():
        loss = loss_fn(f(dict(zip(keys, leaves, strict=True)), xc), yc) * weight
        grads = torch.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    # Gradient leaves that do not depend on θ (e.g. a bias feeding a linear loss) have no
    # graph; their rows of H are zero and autograd must not be asked about them.
    live = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]

    def product(vs: list[Tensor]) -> list[Tensor]:
        if not live:
            return [torch.zeros_like(t) for t in leaves]
        with torch.enable_grad():
            hv = torch.autograd.grad([grads[i] for i in live], leaves,
                                     grad_outputs=[vs[i] for i in live],
                                     retain_graph=True, allow_unused=True)
        return [h if h is not None else torch.zeros_like(t)
                for h, t in zip(hv, leaves, strict=True)]

    return product


def jacobian_products(
    f: ModelFn, keys: list[str], leaves: list[Tensor], x: Tensor
) -> tuple[Tensor, Callable[[list[Tensor]], Tensor], Callable[[Tensor], list[Tensor]]]:
    """Products with the Jacobian ``J = ∂f(θ, x)/∂θ`` from graphs built once.

    Args:
        f: the model; keys: parameter names; leaves: parameter tensors with
            ``requires_grad`` (the point ``θ``, in ``keys`` order); x: inputs.

    Returns:
        ``(out, jv, jtu)``: the output ``f(θ, x)`` (with its graph), ``jv(vs) = J v`` shaped like
        ``out`` for ``vs`` shaped like ``leaves``, and ``jtu(u) = Jᵀ u`` (a list like ``leaves``).
        ``J v`` uses the double-vjp trick: ``u ↦ Jᵀu`` is linear in a dummy ``u``, so
        ``J v = ∂⟨v, Jᵀu⟩/∂u`` is one backward pass through the retained graph of ``Jᵀu``.
        Both products are one backward pass each; no forward pass is repeated.
    """
    with torch.enable_grad():
        out = f(dict(zip(keys, leaves, strict=True)), x)
        u = torch.zeros_like(out, requires_grad=True)
        jt_dummy = torch.autograd.grad(out, leaves, grad_outputs=u, create_graph=True,
                                       allow_unused=True)
    live = [i for i, g in enumerate(jt_dummy) if g is not None and g.requires_grad]

    def jv(vs: list[Tensor]) -> Tensor:
        if not live:
            return torch.zeros_like(out)
        with torch.enable_grad():
            return torch.autograd.grad([jt_dummy[i] for i in live], u,
                                       grad_outputs=[vs[i] for i in live], retain_graph=True)[0]

    def jtu(cot: Tensor) -> list[Tensor]:
        if not out.requires_grad:
            return [torch.zeros_like(t) for t in leaves]
        with torch.enable_grad():
            g = torch.autograd.grad(out, leaves, grad_outputs=cot, retain_graph=True,
                                    allow_unused=True)
        return [h if h is not None else torch.zeros_like(t) for h, t in zip(g, leaves, strict=True)]

    return out, jv, jtu


def _ggn_product(f, loss_fn, xc, yc, keys, leaves, weight) -> _Product:
    """``Jᵀ (∇²_f ℓ) J v``: three backward passes over graphs built once."""
    out, jv, jtu = jacobian_products(f, keys, leaves, xc)
    with torch.enable_grad():
        o = out.detach().requires_grad_(True)
        g_out = torch.autograd.grad(loss_fn(o, yc) * weight, o, create_graph=True)[0]

    def product(vs: list[Tensor]) -> list[Tensor]:
        if not g_out.requires_grad:  # loss linear in the output: no curvature
            return [torch.zeros_like(t) for t in leaves]
        with torch.enable_grad():
            hjv = torch.autograd.grad(g_out, o, grad_outputs=jv(vs), retain_graph=True)[0]
        return jtu(hjv)

    return product


def _sum_lists(parts: Sequence[list[Tensor]]) -> list[Tensor]:
    if len(parts) == 1:
        return parts[0]
    total = [t.clone() for t in parts[0]]
    for part in parts[1:]:
        for acc, t in zip(total, part, strict=True):
            acc.add_(t)
    return total

"""Width scalings of an MLP's layers: SP, NTK, μP and mean-field, as data.

Every dense layer computes ``y = multiplier · (x @ wᵀ) + b_multiplier · b`` with trainable
``w ~ N(0, init_std²)`` and ``b ~ N(0, b_init_std²)``. A base learning rate ``η`` becomes
``η · lr_scale`` for ``w`` and ``η · b_lr_scale`` for ``b``. A parametrization fixes these
numbers from the layer's role (``input``, ``hidden``, ``output``) and its fan-in and fan-out.
Only *infinite* dimensions scale: the input dimension ``d`` and the number of outputs ``k`` are
treated as constants (the convention of Tensor Programs V, where "fan_in"/"fan_out" in the
tables mean the width-like dimensions only).

Conventions (``σ_w`` = ``w_std``, ``σ_b`` = ``b_std``; ``m`` = fan-in, ``n`` = hidden width):

=============  ===============  =========  ======================  ==========================
               multiplier       init std   SGD lr scale            Adam lr scale
=============  ===============  =========  ======================  ==========================
``sp``         1                σ_w/√m     1                       1
``ntk``        σ_w/√m           1          1                       1
``mup``        input, hidden:   1          weights: input n,       weights: input 1,
               σ_w/√m;                     hidden m, output m;     hidden 1/√m, output 1;
               output: σ_w/m               biases: fan-out (1 on   biases: 1
                                           the readout)
``mean_field`` as ``mup``       1          as ``mup``              as ``mup``
=============  ===============  =========  ======================  ==========================

Biases enter as ``σ_b · b`` with ``b ~ N(0, 1)`` in ``ntk``/``mup``/``mean_field`` and as
``b ~ N(0, σ_b²)`` in ``sp``; their lr scale is 1 except in μP/mean-field.

**Where the μP rows come from.** Tensor Programs V (Yang et al. 2022, Table 3) states μP in
"SP form" (multiplier 1) for the *effective* weight ``W = multiplier · w``:

============  =========================  ========================  ==============
              input weights, all biases  output weights            hidden weights
============  =========================  ========================  ==============
init var      1/fan_in                   1/fan_in²                 1/fan_in
SGD lr        fan_out                    1/fan_in                  1
Adam lr       1                          1/fan_in                  1/fan_in
============  =========================  ========================  ==============

Moving a factor into the multiplier changes the raw lr needed for the same effective
update. With ``W = μ·w``: under SGD ``ΔW = −η·lr_scale·μ²·∂L/∂W``, so ``lr_scale = lr_SGD/μ²``;
under Adam (updates invariant to the gradient's scale) ``ΔW = μ·Δw ≈ μ·η·lr_scale``, so
``lr_scale = lr_Adam/μ``. These are the abc-symmetries of Yang & Hu (2021, TP4):
``(a, b, c) → (a+θ, b−θ, c−2θ)`` for SGD, ``(a+θ, b−θ, c−θ)`` for Adam (TP5). With our
multipliers ``σ_w/√m`` (hidden) and ``σ_w/m`` (output) and unit init this gives the table; dropping
constants in ``d``, ``k`` and ``σ_w``, the lr scales are pure powers of the widths. In TP4's
notation this is ``a = (0, ½, 1)``, ``b = 0``, SGD ``c = −1`` for every layer.

The table written earlier in this module had SGD lr scales ``(n, 1, 1/n)`` and Adam
``(1, 1/n, 1/n)``: those are Table 3's SP-form entries applied to the multiplier form, which
makes the hidden and output layers lazy (their updates vanish with width, the pitfall
recorded in `notes/seeds-hf.md` P42). A coordinate check (`gdlab.probes.coord_check`) tells
the two apart: with the present table every layer's update moves features by Θ(1).

**Mean-field.** For one hidden layer, ``f(x) = (1/n) Σ_j a_j φ(w_j·x)`` with ``a_j, w_j = Θ(1)``
and step size ∝ ``n`` (Mei, Montanari & Nguyen 2018; Chizat & Bach 2018) is exactly the μP row
above. For deeper nets TP4 presents μP as the extension of mean-field to any depth (the
naive 1/n hidden multipliers make a deep net trivial at init). So ``mean_field`` is the
same scaling as ``mup``; both names are kept.

**Lazy vs rich.** `gdlab.models.MLP` multiplies the output by ``out_scale`` α (Chizat, Oyallon
& Bach 2019): large α with a learning rate ∝ 1/α² gives lazy (kernel) training, small α rich
training.

References:
    Yang & Hu, "Feature Learning in Infinite-Width Neural Networks", ICML 2021 (TP4).
    Yang et al., "Tensor Programs V: Tuning Large Neural Networks via Zero-Shot
    Hyperparameter Transfer", 2022, Table 3.
    Jacot, Gabriel & Hongler 2018 and neural-tangents ``stax.Dense`` for ``ntk``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Parametrization = Literal["sp", "ntk", "mup", "mean_field"]
Role = Literal["input", "hidden", "output"]
Optimizer = Literal["sgd", "adam"]
PARAMETRIZATIONS: tuple[str, ...] = ("sp", "ntk", "mup", "mean_field")
ROLES: tuple[str, ...] = ("input", "hidden", "output")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")


@dataclass(frozen=True)
class LayerScaling:
    """The numbers one dense layer needs: forward multipliers, init stds, lr scales.

    ``b_lr_scale`` is the bias's own lr multiplier; ``None`` means "same as ``lr_scale``".
    """

    multiplier: float
    init_std: float
    b_multiplier: float
    b_init_std: float
    lr_scale: float
    b_lr_scale: float | None = None

    @property
    def bias_lr_scale(self) -> float:
        """The bias's lr multiplier (``lr_scale`` when no separate one is set)."""
        return self.lr_scale if self.b_lr_scale is None else self.b_lr_scale


def layer_scaling(
    parametrization: str,
    role: Role,
    fan_in: int,
    fan_out: int,
    *,
    w_std: float = 1.0,
    b_std: float = 0.0,
    optimizer: Optimizer = "sgd",
) -> LayerScaling:
    """Scaling of one dense layer of shape ``(fan_out, fan_in)`` (module docstring table).

    Args:
        parametrization: ``sp | ntk | mup | mean_field``.
        role: ``input`` (fan-in is the data dimension), ``hidden`` or ``output`` (fan-out is
            the number of outputs). Only hidden widths count as infinite.
        fan_in, fan_out: the layer's dimensions.
        w_std, b_std: ``σ_w``, ``σ_b``.
        optimizer: ``sgd`` or ``adam``; selects the μP learning-rate scales.

    Returns:
        A `LayerScaling`.

    Raises:
        ValueError: unknown parametrization, role or optimizer, or non-positive sizes.

    Example:
        >>> s = layer_scaling("mup", "hidden", 256, 256)
        >>> s.multiplier, s.lr_scale   # effective lr lr_scale·multiplier² = 1 (TP5 Table 3)
        (0.0625, 256.0)
    """
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(
            f"parametrization must be one of {PARAMETRIZATIONS}, got {parametrization!r}"
        )
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"fan_in and fan_out must be >= 1, got {fan_in}, {fan_out}")
    m = float(fan_in)
    if parametrization == "sp":
        return LayerScaling(1.0, w_std / math.sqrt(m), 1.0, b_std, 1.0)
    if parametrization == "ntk":
        return LayerScaling(w_std / math.sqrt(m), 1.0, b_std, 1.0, 1.0)
    # mup and mean_field: NTK-like multipliers, an extra 1/√n on the readout.
    mult = w_std / m if role == "output" else w_std / math.sqrt(m)
    lr, b_lr = _mup_lr_scales(role, fan_in, fan_out, optimizer)
    return LayerScaling(mult, 1.0, b_std, 1.0, lr, b_lr)


def _mup_lr_scales(role: str, fan_in: int, fan_out: int, optimizer: str) -> tuple[float, float]:
    """(weight, bias) lr scales of μP in multiplier form; see the module docstring.

    Infinite dimensions: fan-out of input and hidden layers, fan-in of hidden and output ones.
    """
    n_in = 1.0 if role == "input" else float(fan_in)
    n_out = 1.0 if role == "output" else float(fan_out)
    if optimizer == "sgd":
        # lr_scale = lr_SGD / multiplier²: input n_out·1, hidden 1·n_in, output (1/n_in)·n_in².
        weight = {"input": n_out, "hidden": n_in, "output": n_in}[role]
        return weight, n_out  # biases: SGD lr ∝ fan-out (TP5 Table 3, first column)
    # lr_scale = lr_Adam / multiplier: input 1, hidden (1/n_in)·√n_in, output (1/n_in)·n_in.
    weight = {"input": 1.0, "hidden": 1.0 / math.sqrt(n_in), "output": 1.0}[role]
    return weight, 1.0

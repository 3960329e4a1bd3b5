"""Width scalings of an MLP's layers: SP, NTK, μP and mean-field, as data.

Every dense layer computes ``y = multiplier · (x @ wᵀ) + b_multiplier · b`` with trainable
``w ~ N(0, init_std²)`` and ``b ~ N(0, b_init_std²)``; a learning rate ``lr`` becomes
``lr · lr_scale`` for that layer. A parametrization fixes these numbers from the layer's
role (``input``, ``hidden``, ``output``), its fan-in and the width ``n``.

Conventions (``σ_w`` = ``w_std``, ``σ_b`` = ``b_std``, fan-in ``m``):

=============  ==================  =============  ================================
               multiplier          init std       lr scale (SGD)
=============  ==================  =============  ================================
``sp``         1                   σ_w/√m         1
``ntk``        σ_w/√m              1              1
``mup``        σ_w/√m; output:     1              input: n, hidden: 1, output: 1/n
               σ_w/m (``1/n``)
``mean_field`` σ_w/√m; output:     1              input/hidden: n, output: n
               σ_w/m                              (lr ∝ n: the mean-field time scale)
=============  ==================  =============  ================================

``ntk`` matches neural-tangents' ``stax.Dense(parameterization="ntk")``: the weight enters
as ``σ_w/√m · w`` and the bias as ``σ_b · b`` with ``w, b ~ N(0, 1)``. ``mup`` is the
multiplier form of μP in Yang & Hu (2021, TP4, Table 3 via the abc-symmetry): the input
layer and hidden layers look like NTK at init, the output layer carries an extra ``1/√n``,
and per-layer learning rates make every layer's update move features by Θ(1). The SGD lr
scales are given here; for Adam, `lr_scale(..., optimizer="adam")` gives TP5's Table 3
(input 1, hidden 1/n, output 1/n in this multiplier form).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Parametrization = Literal["sp", "ntk", "mup", "mean_field"]
Role = Literal["input", "hidden", "output"]
PARAMETRIZATIONS: tuple[str, ...] = ("sp", "ntk", "mup", "mean_field")


@dataclass(frozen=True)
class LayerScaling:
    """The numbers one dense layer needs: forward multipliers, init stds, lr scale."""

    multiplier: float
    init_std: float
    b_multiplier: float
    b_init_std: float
    lr_scale: float


def layer_scaling(
    parametrization: str,
    role: Role,
    fan_in: int,
    width: int,
    *,
    w_std: float = 1.0,
    b_std: float = 0.0,
    optimizer: Literal["sgd", "adam"] = "sgd",
) -> LayerScaling:
    """Scaling of one layer. ``width`` is the hidden width ``n`` that μP/MF scale with."""
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(f"parametrization must be one of {PARAMETRIZATIONS}, got {parametrization!r}")
    m, n = float(fan_in), float(width)
    if parametrization == "sp":
        return LayerScaling(1.0, w_std / math.sqrt(m), 1.0, b_std, 1.0)
    if parametrization == "ntk":
        return LayerScaling(w_std / math.sqrt(m), 1.0, b_std, 1.0, 1.0)
    mult = w_std / math.sqrt(m)
    if role == "output":
        mult = w_std / m  # the extra 1/√n of μP / mean-field readouts
    if parametrization == "mup":
        if optimizer == "sgd":
            lr = {"input": n, "hidden": 1.0, "output": 1.0 / n}[role]
        else:
            lr = {"input": 1.0, "hidden": 1.0 / n, "output": 1.0 / n}[role]
    else:  # mean_field: time rescaled by n so that the O(1/n) readout still learns
        lr = n
    return LayerScaling(mult, 1.0, b_std, 1.0, lr)

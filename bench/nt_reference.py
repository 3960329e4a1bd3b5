"""Reference NNGP/NTK values from neural-tangents, written to a JSON fixture for the tests.

neural-tangents is JAX-only and needs an old JAX, so it lives in its own venv, outside the
repository (CI has no JAX; the tests read the fixture)::

    python3 -m venv /work/venv-nt
    /work/venv-nt/bin/pip install jax==0.4.23 jaxlib==0.4.23 "numpy<2" neural-tangents scipy
    /work/venv-nt/bin/python bench/nt_reference.py   # -> tests/kernels/data/nt_mlp_kernels.json

Each case is ``stax.serial(*[Dense(width, W_std, b_std), act] * hidden_layers,
Dense(1, W_std, b_std))`` evaluated in float64 (``JAX_ENABLE_X64``) on random inputs.
Closed forms where neural-tangents has them (Relu, Erf, Identity, Gelu, Sin); tanh, sigmoid
and softplus through its ``ElementwiseNumerical`` with 256 Gauss-Hermite nodes, far more
than gdlab's default, so the reference is converged. The configurations are drawn from a
seeded generator over activations, depths, stds, input dimensions and sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings

os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "tests", "kernels", "data", "nt_mlp_kernels.json")
# Gauss-Hermite nodes of the numerical reference (converged to ~1e-14 for tanh at variance 2)
REFERENCE_DEG = 256

ACTIVATIONS = {
    "relu": lambda: stax.Relu(),
    "erf": lambda: stax.Erf(),
    "identity": lambda: stax.Identity(),
    "gelu": lambda: stax.Gelu(approximate=False),
    "sin": lambda: stax.Sin(a=1.0, b=1.0, c=0.0),
    "tanh": lambda: stax.ElementwiseNumerical(
        jnp.tanh, deg=REFERENCE_DEG, df=lambda x: 1 - jnp.tanh(x) ** 2
    ),
    "sigmoid": lambda: stax.ElementwiseNumerical(
        jax.nn.sigmoid, deg=REFERENCE_DEG, df=lambda x: jax.nn.sigmoid(x) * (1 - jax.nn.sigmoid(x))
    ),
    "softplus": lambda: stax.ElementwiseNumerical(
        jax.nn.softplus, deg=REFERENCE_DEG, df=jax.nn.sigmoid
    ),
}


def kernel_fn(
    act: str, hidden_layers: int, w_std: float, b_std: float, parametrization: str, width: int
):
    layers = []
    for _ in range(hidden_layers):
        layers += [
            stax.Dense(width, W_std=w_std, b_std=b_std, parameterization=parametrization),
            ACTIVATIONS[act](),
        ]
    layers.append(stax.Dense(1, W_std=w_std, b_std=b_std, parameterization=parametrization))
    return stax.serial(*layers)[2]


def cases(seed: int) -> list[dict]:
    """Hand-picked corners plus seeded random configurations."""
    rng = np.random.default_rng(seed)
    out = [
        dict(
            act="relu", hidden_layers=3, w_std=1.5, b_std=0.05, d=64, n1=6, n2=None
        ),  # the W2 network
        dict(act="relu", hidden_layers=0, w_std=1.0, b_std=0.0, d=3, n1=4, n2=3),
        dict(act="erf", hidden_layers=4, w_std=2.0, b_std=0.5, d=5, n1=5, n2=None),
        dict(act="identity", hidden_layers=2, w_std=0.8, b_std=0.3, d=4, n1=4, n2=5),
        dict(
            act="relu",
            hidden_layers=2,
            w_std=1.3,
            b_std=0.2,
            d=7,
            n1=5,
            n2=4,
            parametrization="standard",
            width=64,
        ),
        dict(
            act="tanh",
            hidden_layers=2,
            w_std=1.2,
            b_std=0.1,
            d=6,
            n1=5,
            n2=None,
            parametrization="standard",
            width=32,
        ),
    ]
    for _ in range(28):
        out.append(
            dict(
                act=str(rng.choice(list(ACTIVATIONS))),
                hidden_layers=int(rng.integers(1, 5)),
                w_std=round(float(rng.uniform(0.5, 1.8)), 3),
                b_std=round(float(rng.choice([0.0, rng.uniform(0.0, 0.6)])), 3),
                d=int(rng.integers(1, 9)),
                n1=int(rng.integers(2, 7)),
                n2=None if rng.random() < 0.5 else int(rng.integers(1, 6)),
            )
        )
    return out


def evaluate(case: dict, rng: np.random.Generator) -> dict:
    case = {"parametrization": "ntk", "width": 512, **case}
    x1 = rng.standard_normal((case["n1"], case["d"]))
    x2 = None if case["n2"] is None else rng.standard_normal((case["n2"], case["d"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ElementwiseNumerical warns that it is numerical
        kfn = kernel_fn(
            case["act"],
            case["hidden_layers"],
            case["w_std"],
            case["b_std"],
            case["parametrization"],
            case["width"],
        )
        k = kfn(jnp.asarray(x1), None if x2 is None else jnp.asarray(x2), ("nngp", "ntk"))
    return dict(
        case,
        x1=x1.tolist(),
        x2=None if x2 is None else x2.tolist(),
        nngp=np.asarray(k.nngp).tolist(),
        ntk=np.asarray(k.ntk).tolist(),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    if not jax.config.read("jax_enable_x64"):
        raise SystemExit("set JAX_ENABLE_X64=1: the fixture must be float64")
    rng = np.random.default_rng(args.seed + 1)
    records = [evaluate(c, rng) for c in cases(args.seed)]
    import neural_tangents

    doc = dict(
        generator="bench/nt_reference.py",
        neural_tangents=neural_tangents.__version__,
        jax=jax.__version__,
        dtype="float64",
        reference_gh_nodes=REFERENCE_DEG,
        cases=records,
    )
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(doc, fh, indent=None, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {len(records)} cases to {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()

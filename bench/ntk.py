# ruff: noqa: E501  (the cell scripts and table rows read best unwrapped)
"""Benchmark: empirical NTK (per method) and infinite-width kernels, gdlab vs its peers.

    python bench/ntk.py                 # everything that is installed (a few minutes on 2 cores)
    python bench/ntk.py --skip-peers    # gdlab only
    python bench/ntk.py --cells 512/10/1024 2048/1/256

Every cell runs in a fresh subprocess, so its peak RSS (``VmHWM``, whole process, including
the import baseline) belongs to that cell alone. Timing follows the peer bench
(``shared/peer-bench/common.py``): one warm-up call, then the median of 3 timed calls (10 when
the warm-up took < 0.5 s, 1 when it took > 20 s). All tools get the same float32 weights,
generated in NumPy exactly as the peer bench does (He init, seed 0), so kernels are compared
entry by entry.

Workloads (BASELINES.md W1, W2): MLP 64 → width → width → width → out, ReLU, full
``(n, n, out, out)`` kernel with ``x2 = x1``; infinite-width NNGP+NTK of
``[Dense(512, 1.5, 0.05), Relu] × 3, Dense(1, 1.5, 0.05)`` on ``n × 64`` standard normal inputs.
Peers: neural-tangents (its structured method, ``implementation=3``, the fastest in W1, and
``stax`` ``kernel_fn``) run through ``--nt-python`` (default ``/work/venv-nt/bin/python``);
nngeometry when importable in this interpreter.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time

D_IN = 64
CELL_TIMEOUT_S = 300  # the peers' rule was 240 s; a skipped cell says so
DEFAULT_NT_PYTHON = "/work/venv-nt/bin/python"
MLP_CELLS = ["512/1/256", "512/1/1024", "2048/1/256", "2048/1/1024",
             "512/10/256", "512/10/1024", "2048/10/256", "2048/10/1024"]  # fmt: skip
# O(n² k² P) methods are run only where the peers ran them (BASELINES.md W1): the rest would take
# minutes to hours (512/10/256 was predicted at ~170 s for torch-jacrev and a 5.8 GB Jacobian).
JACOBIAN_CELLS = {"512/1/256", "512/1/1024", "2048/1/256"}
NTVP_CELLS = {"512/1/256", "2048/1/256"}
KERNEL_NS = [1000, 4000]

# ---- code run inside the cell subprocesses -------------------------------------------------

_COMMON = textwrap.dedent("""
    import json, os, resource, statistics, sys, time
    import numpy as np

    def weights(width, n_out, depth=3, d_in=64, seed=0):
        # Identical to shared/peer-bench/common.py mlp_weights (W stored as (fan_in, fan_out)).
        rng = np.random.default_rng(seed)
        dims = [d_in] + [width] * depth + [n_out]
        ps = []
        for i in range(depth + 1):
            W = (rng.standard_normal((dims[i], dims[i + 1])) * np.sqrt(2.0 / dims[i])).astype(np.float32)
            b = (0.1 * rng.standard_normal(dims[i + 1])).astype(np.float32)
            ps.append((W, b))
        return ps

    def inputs(n, d=64, seed=1):
        return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)

    def rss_mb():
        # VmHWM: peak RSS of this process image. (ru_maxrss survives exec on Linux, so a cell
        # would inherit the driver's peak.)
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    def bench(fn, reps=3, long_s=20.0):
        t0 = time.perf_counter(); out = fn(); warm = time.perf_counter() - t0
        reps = 1 if warm > long_s else (max(reps, 10) if warm < 0.5 else reps)
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter(); out = fn(); ts.append(time.perf_counter() - t0)
        return out, dict(warmup_s=warm, median_s=statistics.median(ts), reps=len(ts))

    def emit(d):
        print("RESULT " + json.dumps(dict(d, peak_rss_mb=rss_mb(), load1=os.getloadavg()[0])), flush=True)
""")

_TORCH_COMMON = _COMMON + textwrap.dedent("""
    import torch
    from torch import nn
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))

    def torch_mlp(width, n_out):
        # The shared weights in nn.Linear layers (stored transposed), ReLU between them.
        layers = []
        for W, b in weights(width, n_out):
            lin = nn.Linear(*W.shape)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W.T.copy())); lin.bias.copy_(torch.from_numpy(b))
            layers += [lin, nn.ReLU()]
        return nn.Sequential(*layers[:-1])
""")

_GDLAB_NTK = _TORCH_COMMON + textwrap.dedent("""
    from gdlab.probes import empirical_ntk
    method, width, n_out, n, save = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    model = torch_mlp(width, n_out)
    x = torch.from_numpy(inputs(n))
    k, t = bench(lambda: empirical_ntk(model, x, method=method))
    if save:
        np.save(save, k.numpy())
    emit(dict(tool="gdlab-" + method, **t))
""")

_NT_NTK = _COMMON + textwrap.dedent("""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import jax, jax.numpy as jnp
    import neural_tangents as nt
    impl, width, n_out, n, save = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in weights(width, n_out)]
    x = jnp.asarray(inputs(n))
    def apply_fn(params, x):
        for W, b in params[:-1]:
            x = jax.nn.relu(x @ W + b)
        W, b = params[-1]
        return x @ W + b
    kfn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0, implementation=impl))
    k, t = bench(lambda: kfn(x, None, params).block_until_ready())
    if save:
        k = np.asarray(k)
        np.save(save, k.reshape(n, n) if n_out == 1 else k)
    emit(dict(tool=f"nt-impl{impl}", **t))
""")

_NNGEOMETRY_NTK = _TORCH_COMMON + textwrap.dedent("""
    from nngeometry.backend import TorchHooksJacobianBackend
    width, n_out, n = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    model = torch_mlp(width, n_out)
    x = torch.from_numpy(inputs(n))
    gen = TorchHooksJacobianBackend(model=model, function=lambda *d: model(d[0]))
    k, t = bench(lambda: gen.get_gram_matrix((x,)))
    emit(dict(tool="nngeometry", **t))
""")

_GDLAB_KERNEL = _COMMON + textwrap.dedent("""
    import torch
    from gdlab.kernels import mlp_kernels
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    n, dtype, save = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    x = torch.from_numpy(inputs(n, seed=2)).to(getattr(torch, dtype))
    k, t = bench(lambda: mlp_kernels(x, hidden_layers=3, activation="relu", w_std=1.5, b_std=0.05))
    if save:
        np.save(save, k.ntk.double().numpy())
    emit(dict(tool=f"gdlab-mlp_kernels({dtype})", **t))
""")

_NT_KERNEL = _COMMON + textwrap.dedent("""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import jax, jax.numpy as jnp
    from neural_tangents import stax
    n, save = int(sys.argv[1]), sys.argv[2]
    layers = []
    for _ in range(3):
        layers += [stax.Dense(512, W_std=1.5, b_std=0.05), stax.Relu()]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=1.5, b_std=0.05))
    x = jnp.asarray(inputs(n, seed=2))
    kf = jax.jit(kernel_fn, static_argnames="get")
    k, t = bench(lambda: jax.block_until_ready(kf(x, x, get=("nngp", "ntk"))))
    if save:
        np.save(save, np.asarray(k[1], dtype=np.float64))
    emit(dict(tool="nt-stax-kernel_fn(float32,jit)", **t))
""")

# ---- driver -------------------------------------------------------------------------------


def run_cell(python: str, script: str, args: list[str], env: dict | None = None) -> dict:
    """Run one cell in a fresh process; its ``RESULT`` line, or an error record."""
    try:
        proc = subprocess.run(
            [python, "-c", script, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=CELL_TIMEOUT_S,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout ({CELL_TIMEOUT_S} s)"}
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (proc.stderr.strip().splitlines() or ["crashed"])[-1][:200]}


def agreement(path_a: str, path_b: str) -> float | None:
    """``max |A − B| / max |B|`` of two saved kernels (None if either is missing)."""
    import numpy as np

    if not (os.path.exists(path_a) and os.path.exists(path_b)):
        return None
    a, b = np.load(path_a).astype(np.float64), np.load(path_b).astype(np.float64)
    if a.shape != b.shape:
        return None
    return float(np.abs(a - b).max() / np.abs(b).max())


def have_nngeometry() -> bool:
    try:
        import nngeometry  # noqa: F401
    except ImportError:
        return False
    return True


def fmt(rec: dict | None) -> str:
    if rec is None:
        return "–"
    if "error" in rec:
        return f"failed: {rec['error']}"
    reps = "" if rec["reps"] != 1 else " (1)"
    return f"{rec['median_s']:.3g} s{reps} / {rec['peak_rss_mb'] / 1024:.2f} GB"


def ratio(slow: dict | None, fast: dict | None) -> str:
    if not slow or not fast or "error" in slow or "error" in fast:
        return "–"
    return f"{slow['median_s'] / fast['median_s']:.1f}×"


def main() -> None:
    ap = argparse.ArgumentParser(description="empirical and infinite-width NTK benchmark")
    ap.add_argument("--cells", nargs="*", default=MLP_CELLS, help="width/out/n, e.g. 512/10/1024")
    ap.add_argument("--kernel-n", nargs="*", type=int, default=KERNEL_NS)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--nt-python", default=DEFAULT_NT_PYTHON)
    args = ap.parse_args()
    nt_ok = not args.skip_peers and os.path.exists(args.nt_python)
    ngeo_ok = not args.skip_peers and have_nngeometry()
    tmp = tempfile.mkdtemp(prefix="gdlab-bench-ntk-")
    py = sys.executable
    print(
        f"# Empirical and infinite-width NTK ({datetime.date.today()}, {platform.node()}, "
        f"{os.cpu_count()} CPUs, load before: {os.getloadavg()[0]:.2f})"
    )
    print(
        f"# peers: neural-tangents {'yes' if nt_ok else 'no'}; nngeometry {'yes' if ngeo_ok else 'not installed'}"
    )
    print(
        "\n| width/out/n | gdlab structured | gdlab jacobian | gdlab ntvp | NT impl3 (structured) | nngeometry "
        "| jacobian / structured | NT / gdlab | agreement vs NT | load1 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for cell in args.cells:
        width, out, n = (int(v) for v in cell.split("/"))
        ours = os.path.join(tmp, f"g_{cell.replace('/', '_')}.npy")
        theirs = os.path.join(tmp, f"nt_{cell.replace('/', '_')}.npy")
        res = {"structured": run_cell(py, _GDLAB_NTK, ["structured", width, out, n, ours])}
        res["jacobian"] = (
            run_cell(py, _GDLAB_NTK, ["jacobian", width, out, n, ""])
            if cell in JACOBIAN_CELLS
            else None
        )
        res["ntvp"] = (
            run_cell(py, _GDLAB_NTK, ["ntvp", width, out, n, ""]) if cell in NTVP_CELLS else None
        )
        res["nt"] = run_cell(args.nt_python, _NT_NTK, [3, width, out, n, theirs]) if nt_ok else None
        res["ngeo"] = run_cell(py, _NNGEOMETRY_NTK, ["-", width, out, n]) if ngeo_ok else None
        agree = agreement(ours, theirs)
        loads = [r.get("load1") for r in res.values() if r and "load1" in r]
        print(
            f"| {cell} | {fmt(res['structured'])} | {fmt(res['jacobian'])} | {fmt(res['ntvp'])} | "
            f"{fmt(res['nt'])} | {fmt(res['ngeo'])} | {ratio(res['jacobian'], res['structured'])} | "
            f"{ratio(res['nt'], res['structured'])} | {'–' if agree is None else f'{agree:.1e}'} | "
            f"{max(loads):.1f} |",
            flush=True,
        )
    print(
        "\njacobian/ntvp run only at "
        + ", ".join(sorted(JACOBIAN_CELLS | NTVP_CELLS))
        + ": elsewhere their O(n² k² P) cost is minutes to hours (BASELINES.md W1 skipped them too)."
    )
    print(
        "\n| n | gdlab float32 | gdlab float64 | NT kernel_fn (float32, jit) | NT / gdlab f32 | NTK agreement f32 vs NT | load1 |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in args.kernel_n:
        ours = os.path.join(tmp, f"gk_{n}.npy")
        theirs = os.path.join(tmp, f"ntk_{n}.npy")
        r32 = run_cell(py, _GDLAB_KERNEL, [n, "float32", ours])
        r64 = run_cell(py, _GDLAB_KERNEL, [n, "float64", ""])
        rnt = run_cell(args.nt_python, _NT_KERNEL, [n, theirs]) if nt_ok else None
        agree = agreement(ours, theirs)
        loads = [r.get("load1") for r in (r32, r64, rnt) if r and "load1" in r]
        print(
            f"| {n} | {fmt(r32)} | {fmt(r64)} | {fmt(rnt)} | {ratio(rnt, r32)} | "
            f"{'–' if agree is None else f'{agree:.1e}'} | {max(loads):.1f} |",
            flush=True,
        )
    print(
        f"\ncells: median seconds / peak RSS of the cell's process; (1) = a single timed rep. "
        f"load after: {os.getloadavg()[0]:.2f}; finished {time.strftime('%H:%M:%S')}"
    )


if __name__ == "__main__":
    main()

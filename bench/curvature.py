"""Curvature: gdlab vs PyHessian vs curvlinops on the BASELINES.md W3 problem.

    python bench/curvature.py                         # all tools found, the table for RESULTS.md
    python bench/curvature.py --tools gdlab --reps 5
    python bench/curvature.py --peers-python /work/venv-peers/bin/python --write-results

Problem (BASELINES.md W3, ``peer-bench/w3_hessian.py``): MLP 64-512-512-10 (``nn.Linear``, ReLU,
torch default init with seed 0, P = 301,066), 2048 standard-normal inputs (NumPy seed 3), 10
random classes (seed 4), mean cross-entropy, float32, one full batch, 2 torch threads.

Tasks: one Hessian-vector product; top-1 and top-5 eigenvalues; the trace with 100 products;
the SLQ spectral density with 100 Lanczos steps and one probe. Each (tool, task) runs in a fresh
subprocess, so its peak RSS (``ru_maxrss``, import baseline included) is its own; the peers run
with the interpreter of their own venv (``--peers-python``; install them outside the repo:
``python3 -m venv /work/venv-peers && /work/venv-peers/bin/pip install torch==2.13.0 numpy
scipy pyhessian curvlinops-for-pytorch``). Timing as BASELINES.md: one warm-up call, then the
median of ``--reps`` calls (10 if the warm-up took < 0.5 s, 1 if > 20 s). Building the operator
(PyHessian: the ``create_graph`` gradient) is inside every timed call.

Accuracy is against a converged reference computed here in float64: the top-5 eigenvalues by
scipy ``eigsh(tol=0)`` on float64 forward-over-reverse products (`gdlab.core.hvp`, not the
double-backward path under test), and the exact trace. The exact trace uses that the net is
piecewise linear: each output is linear in each single weight, so ``tr ∇²L = tr GGN``, and
``tr GGN = (1/n) Σ_i Σ_c ‖∇_θ (s_icᵀ f(x_i))‖²`` with ``S_i S_iᵀ = diag(p_i) − p_i p_iᵀ``;
per-sample squared gradient norms of a linear layer are ``‖δ_i‖²(‖a_i‖² + 1)`` (Goodfellow's
trick), so it costs 10 batched backward passes (independent of `gdlab.probes.curvature`).
The reference is cached in the temp directory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
TASKS = ("hvp", "top1", "top5", "trace", "density")
TOOLS = ("gdlab", "pyhessian", "curvlinops")
N, D, CLASSES, WIDTH = 2048, 64, 10, 512
TRACE_BUDGET = 100
DENSITY_STEPS = 100
TRACE_REPEATS = 5
"""Repetitions (different probes) for the RMS trace error of Hutchinson vs Hutch++."""


# --- the problem ----------------------------------------------------------------------------

def problem(dtype=torch.float32):
    """``(model, X, y, criterion)`` exactly as peer-bench/w3_hessian.py builds them."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(D, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH), nn.ReLU(),
                          nn.Linear(WIDTH, CLASSES))
    X = torch.from_numpy(np.random.default_rng(3).standard_normal((N, D)).astype(np.float32))
    y = torch.from_numpy(np.random.default_rng(4).integers(0, CLASSES, N))
    return model.to(dtype), X.to(dtype), y, nn.CrossEntropyLoss()


def timed(fn, reps: int) -> tuple[object, dict]:
    """BASELINES.md timing: warm-up, then the median of ``reps`` (10 if fast, 1 if slow)."""
    t0 = time.perf_counter()
    out = fn()
    warm = time.perf_counter() - t0
    reps = 1 if warm > 20 else (max(reps, 10) if warm < 0.5 else reps)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return out, {"median_s": statistics.median(ts), "reps": reps, "warmup_s": warm}


# --- workers (run in subprocesses) ----------------------------------------------------------

def worker_gdlab(task: str, reps: int) -> dict:
    from gdlab.probes.curvature import (
        hessian_operator,
        hutchinson,
        hutchpp,
        lanczos_eigsh,
        slq_density,
    )

    model, X, y, crit = problem()
    if task == "hvp":
        from gdlab.core import flatten, functionalize, hvp, unflatten

        op = hessian_operator(model, crit, X, y)
        v = torch.randn(op.size, generator=torch.Generator().manual_seed(0))
        _, t = timed(lambda: op.matvec(v), reps)
        _, build = timed(lambda: hessian_operator(model, crit, X, y), reps)
        chunked = hessian_operator(model, crit, X, y, chunk_size=256)
        _, tc = timed(lambda: chunked.matvec(v), reps)
        f, params = functionalize(model)
        spec = flatten(params)[1]
        _, tf = timed(lambda: hvp(lambda p: crit(f(p, X), y), params, unflatten(v, spec)), reps)
        return {
            f"graph reused (build {build['median_s']:.3f} s)": {**t, "hvps": 1},
            "chunks of 256, graph rebuilt per product": {**tc, "hvps": 1},
            "gdlab.core.hvp (torch.func forward-over-reverse)": {**tf, "hvps": 1},
        }
    if task in ("top1", "top5"):
        k = int(task[-1])

        def run():
            op = hessian_operator(model, crit, X, y)
            r = lanczos_eigsh(op, k, generator=torch.Generator().manual_seed(1))
            return r.eigenvalues.tolist(), r.num_matvecs

        (eigs, hvps), t = timed(run, reps)
        return {**t, "hvps": hvps, "eigs": eigs}
    if task == "trace":
        out = {}
        for name, method in (("hutchinson", hutchinson), ("hutch++", hutchpp)):
            def run(method=method):
                op = hessian_operator(model, crit, X, y)
                return method(op, TRACE_BUDGET, generator=torch.Generator().manual_seed(2))

            est, t = timed(run, reps)
            out[name] = {**t, "hvps": est.num_matvecs, "trace": est.trace, "std_error": est.std_error}
            op = hessian_operator(model, crit, X, y)
            out[name]["repeats"] = [
                method(op, TRACE_BUDGET, generator=torch.Generator().manual_seed(100 + r)).trace
                for r in range(TRACE_REPEATS)]
        return out
    if task == "density":
        def run():
            op = hessian_operator(model, crit, X, y)
            d = slq_density(op, DENSITY_STEPS, 1, generator=torch.Generator().manual_seed(3))
            return float(d.nodes.max()), d.num_matvecs

        (top, hvps), t = timed(run, reps)
        return {**t, "hvps": hvps, "max_ritz": top}
    raise ValueError(task)


def worker_pyhessian(task: str, reps: int) -> dict:
    import pyhessian.hessian  # noqa: F401  (the package re-exports the class under this name)

    ph = sys.modules["pyhessian.hessian"]
    model, X, y, crit = problem()
    count = [0]
    raw = ph.hessian_vector_product

    def counting(*a, **k):
        count[0] += 1
        return raw(*a, **k)

    ph.hessian_vector_product = counting

    def build():
        return ph.hessian(model, crit, data=(X, y), cuda=False)

    if task == "hvp":
        H = build()
        v = [torch.randn_like(p) for p in H.params]
        _, t = timed(lambda: raw(H.gradsH, H.params, v), reps)
        return {**t, "hvps": 1}
    if task in ("top1", "top5"):
        def run():
            torch.manual_seed(1)
            count[0] = 0
            ev, _ = build().eigenvalues(maxIter=100, tol=1e-3, top_n=int(task[-1]))
            return ev, count[0]

        (eigs, hvps), t = timed(run, reps)
        return {**t, "hvps": hvps, "eigs": [float(e) for e in eigs]}
    if task == "trace":
        def run():
            torch.manual_seed(2)
            count[0] = 0
            return float(np.mean(build().trace(maxIter=TRACE_BUDGET, tol=-1.0))), count[0]

        (tr, hvps), t = timed(run, reps)
        return {"hutchinson": {**t, "hvps": hvps, "trace": tr}}
    if task == "density":
        def eig_shim(A, eigenvectors=True):  # PyHessian 0.1 calls the removed torch.eig
            L, V = torch.linalg.eigh(A)
            return torch.stack([L, torch.zeros_like(L)], 1), V

        torch.eig = eig_shim

        def run():
            torch.manual_seed(3)
            count[0] = 0
            e, _ = build().density(iter=DENSITY_STEPS, n_v=1)
            return float(max(e[0])), count[0]

        (top, hvps), t = timed(run, reps)
        return {**t, "hvps": hvps, "max_ritz": top, "note": "torch.eig shim"}
    raise ValueError(task)


def worker_curvlinops(task: str, reps: int) -> dict:
    import curvlinops
    from scipy.sparse.linalg import LinearOperator, eigsh

    model, X, y, crit = problem()
    params = [p for p in model.parameters() if p.requires_grad]
    count = [0]
    raw = curvlinops.HessianLinearOperator._matmat

    def counting(self, M):
        count[0] += M[0].shape[-1]
        return raw(self, M)

    curvlinops.HessianLinearOperator._matmat = counting

    def build():
        return curvlinops.HessianLinearOperator(model, crit, params, [(X, y)],
                                                check_deterministic=False)

    if task == "hvp":
        H = build()
        v = torch.randn(H.shape[1])
        _, t = timed(lambda: H @ v, reps)
        return {**t, "hvps": 1}
    if task in ("top1", "top5"):
        out = {}
        for tol in (1e-3, 0.0):
            def run(tol=tol):
                count[0] = 0
                Hs = build().to_scipy()
                op = LinearOperator(Hs.shape, matvec=Hs.matvec, dtype=Hs.dtype)
                v0 = np.random.default_rng(5).standard_normal(Hs.shape[0]).astype(Hs.dtype)
                ev = eigsh(op, k=int(task[-1]), which="LA", tol=tol, v0=v0, return_eigenvectors=False)
                return sorted(ev.tolist(), reverse=True), count[0]

            (eigs, hvps), t = timed(run, reps)
            out[f"eigsh tol={tol:g}"] = {**t, "hvps": hvps, "eigs": eigs}
        return out
    if task == "trace":
        out = {}
        for name, fn, m in (("hutchinson", curvlinops.hutchinson_trace, TRACE_BUDGET),
                            ("hutch++", curvlinops.hutchpp_trace, 3 * (TRACE_BUDGET // 3)),
                            ("xtrace", curvlinops.xtrace, 2 * (TRACE_BUDGET // 2))):
            def run(fn=fn, m=m):
                torch.manual_seed(2)
                count[0] = 0
                return float(fn(build(), m)), count[0]

            (tr, hvps), t = timed(run, reps)
            out[name] = {**t, "hvps": hvps, "trace": tr}
        return out
    if task == "density":
        def run():
            torch.manual_seed(3)
            count[0] = 0
            grid, dens = curvlinops.lanczos_approximate_spectrum(build(), DENSITY_STEPS, num_repeats=1)
            return float(grid[dens > 1e-3 * dens.max()].max()), count[0]

        # Only a smoothed density on its own grid comes back (no nodes): no accuracy column.
        (top, hvps), t = timed(run, reps)
        return {**t, "hvps": hvps, "max_support": top,
                "note": "papyan2020 SLQ; boundaries by eigsh (counted); no reorthogonalization"}
    raise ValueError(task)


WORKERS = {"gdlab": worker_gdlab, "pyhessian": worker_pyhessian, "curvlinops": worker_curvlinops}


def worker_main(tool: str, task: str, reps: int, threads: int) -> None:
    torch.set_num_threads(threads)
    rss_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = WORKERS[tool](task, reps)
    print(json.dumps({"tool": tool, "task": task, "result": out, "rss_setup_mb": rss_setup,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


# --- reference ------------------------------------------------------------------------------

def reference() -> dict:
    """Converged float64 top-5 eigenvalues and exact trace (cached; see the module docstring)."""
    path = os.path.join(tempfile.gettempdir(), "gdlab-bench-curvature-reference-v1.json")
    if os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    from scipy.sparse.linalg import LinearOperator, eigsh

    from gdlab.core import flatten, functionalize, hvp, unflatten

    model, X, y, crit = problem(torch.float64)
    f, params = functionalize(model)
    _, spec = flatten(params)

    def loss(p):
        return crit(f(p, X), y)

    def matvec(v):
        t = torch.from_numpy(np.ascontiguousarray(v).reshape(-1))
        return flatten(hvp(loss, params, unflatten(t, spec)))[0].numpy()

    size = sum(p.numel() for p in params.values())
    op = LinearOperator((size, size), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(5).standard_normal(size)
    eigs = sorted(eigsh(op, k=5, which="LA", tol=0, v0=v0, return_eigenvectors=False).tolist(),
                  reverse=True)
    ref = {"eigs": eigs, "trace": exact_relu_trace(model, X, y)}
    with open(path, "w") as fh:
        json.dump(ref, fh)
    return ref


def exact_relu_trace(model: nn.Sequential, X: torch.Tensor, y: torch.Tensor) -> float:
    """``tr ∇²L = tr GGN`` for a ReLU MLP of ``nn.Linear`` layers, from per-sample norms."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    acts, grads = {}, {}
    hooks = [lin.register_forward_hook(lambda m, i, o: acts.__setitem__(m, i[0].detach()))
             for lin in linears]
    hooks += [lin.register_full_backward_hook(lambda m, gi, go: grads.__setitem__(m, go[0].detach()))
              for lin in linears]
    out = model(X)
    # The first layer's input needs no gradient; torch warns that its hook then sees only the
    # output gradient, which is all this uses.
    warnings.filterwarnings("ignore", message="Full backward hook is firing")
    p = torch.softmax(out.detach(), dim=1)  # (n, C)
    sq = p.sqrt()
    total = 0.0
    for c in range(CLASSES):
        # Column c of S_i = diag(√p_i) − p_i √p_iᵀ, so S_i S_iᵀ = diag(p_i) − p_i p_iᵀ.
        s = -p * sq[:, c:c + 1]
        s[:, c] += sq[:, c]
        model.zero_grad()
        out.backward(s, retain_graph=True)
        for lin in linears:
            a2 = (acts[lin] ** 2).sum(1) + 1.0  # ‖a_i‖² + 1 (bias)
            total += float(((grads[lin] ** 2).sum(1) * a2).sum())
    for h in hooks:
        h.remove()
    return total / X.shape[0]


# --- driver ---------------------------------------------------------------------------------

def run_worker(python: str, tool: str, task: str, reps: int, threads: int) -> dict:
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")]))
    cmd = [python, os.path.abspath(__file__), "--worker", tool, "--task", task, "--reps", str(reps),
           "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        return {"tool": tool, "task": task, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def rows(results: list[dict], ref: dict) -> list[dict]:
    """Flatten worker outputs into table rows with accuracy."""
    out = []
    for r in results:
        if "error" in r:
            out.append({"task": r["task"], "tool": r["tool"], "variant": "error: " + " ".join(r["error"])})
            continue
        res = r["result"]
        variants = res if all(isinstance(v, dict) for v in res.values()) else {"": res}
        for variant, v in variants.items():
            row = {"task": r["task"], "tool": r["tool"], "variant": variant, "s": v["median_s"],
                   "reps": v["reps"], "hvps": v.get("hvps"), "rss": r["peak_rss_mb"]}
            if "eigs" in v:
                k = len(v["eigs"])
                got = np.sort(np.array(v["eigs"]))[::-1]
                row["err"] = float(np.max(np.abs(got - ref["eigs"][:k]) / np.abs(ref["eigs"][:k])))
            if "trace" in v:
                row["err"] = abs(v["trace"] - ref["trace"]) / abs(ref["trace"])
                if "std_error" in v:
                    row["se"] = v["std_error"] / abs(ref["trace"])
                if "repeats" in v:
                    reps_err = np.array(v["repeats"]) - ref["trace"]
                    row["rms"] = float(np.sqrt(np.mean(reps_err ** 2)) / abs(ref["trace"]))
            for key in ("max_ritz",):
                if key in v:
                    row["err"] = abs(v[key] - ref["eigs"][0]) / ref["eigs"][0]
            out.append(row)
    return out


def table(rows_: list[dict]) -> str:
    """Markdown table; ratio = this row's seconds / gdlab's seconds for the same task."""
    gd = {}
    for r in rows_:
        if r["tool"] == "gdlab" and "s" in r:
            gd.setdefault(r["task"], r["s"])
    lines = ["| task | tool | variant | median s | HVPs | rel. error | peak RSS MB | time / gdlab |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows_:
        if "s" not in r:
            lines.append(f"| {r['task']} | {r['tool']} | {r['variant']} | | | | | |")
            continue
        err = f"{r['err']:.1e}" if "err" in r else ""
        if "se" in r:
            err += f" (own error estimate {r['se']:.1e})"
        if "rms" in r:
            err += f" (RMS over {TRACE_REPEATS} more runs: {r['rms']:.1e})"
        ratio = r["s"] / gd[r["task"]] if r["task"] in gd else float("nan")
        reps = f" ({r['reps']})" if r["reps"] == 1 else ""
        lines.append(f"| {r['task']} | {r['tool']} | {r['variant']} | {r['s']:.3f}{reps} | "
                     f"{r['hvps']} | {err} | {r['rss']:.0f} | {ratio:.2f}× |")
    return "\n".join(lines)


def cpu_model() -> str:
    """The CPU's model name (Linux), else the architecture."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(ref: dict, load: tuple[float, float], threads: int) -> str:
    cpu = cpu_model()
    return (f"Machine: {platform.node()}, {os.cpu_count()} CPUs ({cpu}), torch {torch.__version__}, "
            f"{threads} torch thread(s) per process. Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
            "Load average (1 min) "
            f"before/after: {load[0]:.2f}/{load[1]:.2f}.\n\nReference (float64): λ1..5 = "
            + ", ".join(f"{e:.6f}" for e in ref["eigs"]) + f"; exact trace = {ref['trace']:.6f}.")


def write_results(text: str) -> None:
    """Replace (or add) the ``## Curvature`` section of bench/RESULTS.md, leaving others alone."""
    path = os.path.join(HERE, "RESULTS.md")
    old = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
    start = old.find("\n## Curvature\n")
    section = "\n## Curvature\n\n" + text.strip() + "\n"
    if start < 0:
        new = old.rstrip("\n") + "\n" + section
    else:
        nxt = old.find("\n## ", start + 1)
        new = old[:start] + section + (old[nxt:] if nxt >= 0 else "")
    with open(path, "w") as fh:
        fh.write(new)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2,
                    help="torch threads per worker (2 as BASELINES.md; 1 on a shared, loaded machine)")
    ap.add_argument("--peers-python", default="/work/venv-peers/bin/python")
    ap.add_argument("--write-results", action="store_true", help="update bench/RESULTS.md")
    ap.add_argument("--render", metavar="RAW_JSON",
                    help="re-print the table from a previous run's raw results (no timing)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--task", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_main(args.worker, args.task, args.reps, args.threads)
        return
    torch.set_num_threads(args.threads)
    if args.render:
        with open(args.render) as fh:
            raw = json.load(fh)
        if isinstance(raw, list):  # written before headers were saved
            raw = {"header": "(header not recorded)", "results": raw}
        text = raw["header"] + "\n\n" + table(rows(raw["results"], reference()))
        print(text)
        if args.write_results:
            write_results(text)
        return
    load0 = os.getloadavg()[0]
    ref = reference()
    tools = {}
    for tool in args.tools.split(","):
        python = sys.executable if tool == "gdlab" else args.peers_python
        if os.path.exists(python) and available(python, tool):
            tools[tool] = python
        else:
            print(f"# {tool}: not installed for {python}; skipped", file=sys.stderr)
    results = []
    # Task-major order: the tools compared on a task run back to back, under similar load.
    for task in args.tasks.split(","):
        for tool, python in tools.items():
            print(f"# {task} {tool} ...", file=sys.stderr, flush=True)
            results.append(run_worker(python, tool, task, args.reps, args.threads))
    results.sort(key=lambda r: list(tools).index(r["tool"]))
    head = header(ref, (load0, os.getloadavg()[0]), args.threads)
    text = head + "\n\n" + table(rows(results, ref))
    print(text)
    raw_path = os.path.join(tempfile.gettempdir(), "gdlab-bench-curvature-raw.json")
    with open(raw_path, "w") as fh:
        json.dump({"header": head, "results": results}, fh)
    print(f"# raw results: {raw_path} (re-render with --render)", file=sys.stderr)
    if args.write_results:
        write_results(text)


if __name__ == "__main__":
    main()

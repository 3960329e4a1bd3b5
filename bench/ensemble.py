"""Ensemble training: gdlab's batched ensemble vs a Python loop of torch.optim.SGD (and vmap).

    python bench/ensemble.py                 # both cases, the table for bench/RESULTS.md
    python bench/ensemble.py --case b --reps 5
    python bench/ensemble.py --case a --chunks 1,2,4,8   # explore member-chunk sizes

Cases (issue 7; (a) is BASELINES.md W4):
  (a) 64 MLPs 64-256-256-1, n = 512, full-batch GD, 200 steps;
  (b) 256 MLPs 16-32-32-1, n = 128, full-batch GD, 500 steps.
Every variant starts from the same weights (gdlab ``MLP``s, SP, ReLU, seeds 100+i) and fits
the same data with the mean squared error ``mean((f − y)²)`` at lr 0.1.

Variants: ``loop`` (one ``nn.Sequential`` of ``nn.Linear`` and one ``torch.optim.SGD`` per
model), ``vmap`` (``torch.func.vmap(grad(functional_call))`` plus a batched update: the W4
method), ``ensemble`` (`gdlab.train.ensemble.train_ensemble` with `mlp_objective` and
``gdlab.optim.sgd``, divergence checks included). Timings are float32, after a short warm-up,
over ``--reps`` repetitions that interleave the variants; the table gives the best and the
median repetition (on a shared machine the best is the least disturbed by other jobs).

Agreement: the ensemble against the loop in float64 over all the steps (for (a) on the first
``--agree-members`` members, to keep the command short): the largest relative difference of
the final loss and of the parameters over members. GD at lr 0.1 on these nets is chaotic
(BASELINES W4), so float32 runs are compared after 20 steps only.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

from gdlab import optim
from gdlab.core import functionalize, generator, stack
from gdlab.models import MLP
from gdlab.train.ensemble import mlp_objective, train_ensemble

CASES = {  # members, (d, width, width, 1), n, steps
    "a": dict(m=64, dims=(64, 256, 256, 1), n=512, steps=200),
    "b": dict(m=256, dims=(16, 32, 32, 1), n=128, steps=500),
}
LR = 0.1


def loss_fn(pred, y):
    """The W4 loss: ``mean((f − y)²)``."""
    return ((pred - y) ** 2).mean()


def make_members(case, dtype, device, m=None):
    """gdlab MLPs (the template) and their stacked parameters; seeds 100+i."""
    d, *widths, out = case["dims"]
    nets = [MLP(d, tuple(widths), out, b_std=0.1, generator=generator(100 + i)).to(dtype)
            for i in range(m or case["m"])]
    params = stack([functionalize(n)[1] for n in nets])
    return nets[0].to(device), {k: v.to(device) for k, v in params.items()}


def make_data(case, dtype, device):
    g = generator(5)
    d = case["dims"][0]
    x = torch.randn(case["n"], d, generator=g)
    w = torch.randn(d, 1, generator=g) / 8
    return x.to(dtype).to(device), torch.sin(2 * x @ w).to(dtype).to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


# ---- variants: each returns final stacked params (k -> (m, ...)) -----------------------------
def run_loop(template, params, x, y, steps):
    """One model at a time: nn.Linear layers, torch.optim.SGD."""
    m = next(iter(params.values())).shape[0]
    n_layers = len(template.layers)
    finals = []
    for i in range(m):
        layers = []
        for j in range(n_layers):
            w, b = params[f"layers.{j}.weight"][i], params[f"layers.{j}.bias"][i]
            lin = nn.Linear(w.shape[1], w.shape[0], dtype=w.dtype, device=w.device)
            with torch.no_grad():
                lin.weight.copy_(w)
                lin.bias.copy_(b)
            layers += [lin, nn.ReLU()] if j < n_layers - 1 else [lin]
        net = nn.Sequential(*layers)
        opt = torch.optim.SGD(net.parameters(), lr=LR)
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(x), y).backward()
            opt.step()
        finals.append({f"layers.{j}.{k}": getattr(net[2 * j], k).detach()
                       for j in range(n_layers) for k in ("weight", "bias")})
    return stack(finals)


def run_vmap(template, params, x, y, steps):
    """vmap(grad(functional_call)) over stacked params, batched GD update (BASELINES W4)."""
    f, _ = functionalize(template)
    g = torch.func.vmap(torch.func.grad(lambda p: loss_fn(f(p, x), y)))
    for _ in range(steps):
        grads = g(params)
        params = {k: torch.add(v, grads[k], alpha=-LR) for k, v in params.items()}
    return params


def run_ensemble(template, params, x, y, steps, chunk=None):
    """gdlab: train_ensemble(mlp_objective) with gdlab.optim.sgd."""
    res = train_ensemble(mlp_objective(template, loss_fn, (x, y), chunk=chunk), params,
                         optim.sgd(LR), steps)
    assert not any(res.diverged), "a member diverged"
    return res.params


# ---- measurement ---------------------------------------------------------------------------
def timed_once(fn, device):
    """Wall seconds, process CPU seconds and load1 of one call."""
    sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    sync(device)
    return time.perf_counter() - t0, time.process_time() - c0, os.getloadavg()[0]


def final_losses(template, params, x, y):
    from gdlab.train.ensemble import stacked_mlp

    with torch.no_grad():
        pred = stacked_mlp(template)(params, x)
    return ((pred - y) ** 2).mean(dim=(1, 2))


def disagreement(template, a, b, x, y):
    """Largest relative difference over members of the final loss and of the parameters."""
    la, lb = final_losses(template, a, x, y), final_losses(template, b, x, y)
    dloss = ((la - lb).abs() / lb.abs()).max().item()
    num = sum(((a[k] - b[k]) ** 2).flatten(1).sum(1) for k in a).sqrt()
    den = sum((b[k] ** 2).flatten(1).sum(1) for k in b).sqrt()
    return dloss, (num / den).max().item()


def bench_case(name, args, device):
    case = CASES[name]
    steps = case["steps"]
    rows = []
    template, params = make_members(case, torch.float32, device)
    x, y = make_data(case, torch.float32, device)
    variants = {"loop": run_loop, "ensemble": run_ensemble}
    if args.vmap:
        variants["vmap"] = run_vmap
    for c in args.chunks:
        variants[f"ensemble chunk={c}"] = lambda *a, c=c: run_ensemble(*a, chunk=c)
    for fn in variants.values():  # warm-up
        fn(template, params, x, y, 3)
    # Repetitions interleave the variants, so that other users' jobs on a shared machine
    # disturb all of them alike; the best repetition is the least disturbed one.
    rec = {v: dict(times=[], cpu=[], loads=[]) for v in variants}
    for rep in range(args.reps):
        for vname, fn in variants.items():
            t, c, load = timed_once(lambda fn=fn: fn(template, params, x, y, steps), device)
            for key, val in (("times", t), ("cpu", c), ("loads", load)):
                rec[vname][key].append(val)
            print(f"  ({name}) rep {rep} {vname:<20} {t:8.2f} s  cpu {c:8.2f} s  "
                  f"load1 {load:.2f}", file=sys.stderr, flush=True)
    for vname, r in rec.items():
        best = min(r["times"])
        rows.append(dict(case=name, variant=vname, best=best, median=statistics.median(r["times"]),
                         times=r["times"], cpu=min(r["cpu"]), load=max(r["loads"]),
                         per_step_ms=1000 * best / (steps * case["m"])))
    for r in rows:
        r["speedup"] = rows[0]["best"] / r["best"]
        r["speedup_median"] = rows[0]["median"] / r["median"]
    # Agreement: float32 before chaos sets in, float64 over the whole run.
    early = 20
    a = run_ensemble(template, params, x, y, early)
    b = run_loop(template, params, x, y, early)
    agree32 = disagreement(template, a, b, x, y)
    m64 = min(case["m"], args.agree_members) if name == "a" else case["m"]
    t64, p64 = make_members(case, torch.float64, device, m=m64)
    x64, y64 = make_data(case, torch.float64, device)
    a = run_ensemble(t64, p64, x64, y64, steps)
    b = run_loop(t64, p64, x64, y64, steps)
    agree64 = disagreement(t64, a, b, x64, y64)
    return rows, dict(case=name, early=early, agree32=agree32, m64=m64, steps=steps,
                      agree64=agree64)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, Python {platform.python_version()}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", choices=("a", "b", "all"), default="all")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--no-vmap", dest="vmap", action="store_false", help="skip the vmap variant")
    p.add_argument("--chunks", default="", help="extra ensemble variants with these chunk sizes")
    p.add_argument("--agree-members", type=int, default=8,
                   help="members of (a) compared in float64 (default 8)")
    args = p.parse_args(argv)
    args.chunks = [int(c) for c in args.chunks.split(",") if c]
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"machine: {machine()}, device {device}", file=sys.stderr)
    print(f"start: {time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()}",
          file=sys.stderr)
    all_rows, agreements = [], []
    for name in ("a", "b") if args.case == "all" else (args.case,):
        rows, agree = bench_case(name, args, device)
        all_rows += rows
        agreements.append(agree)
    print(f"\nmachine: {machine()}, device {device}; {time.strftime('%Y-%m-%d %H:%M')}; "
          f"load average at the end {tuple(round(v, 2) for v in os.getloadavg())}\n")
    print("| case | variant | best s | median s | all reps (s) | best CPU s | ms per model-step "
          "| speed-up vs loop (best / median) | max load1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in all_rows:
        print(f"| ({r['case']}) | {r['variant']} | {r['best']:.2f} | {r['median']:.2f} | "
              f"{', '.join(f'{t:.2f}' for t in r['times'])} | {r['cpu']:.2f} | "
              f"{r['per_step_ms']:.3f} | {r['speedup']:.2f}× / {r['speedup_median']:.2f}× | "
              f"{r['load']:.2f} |")
    print("\n| case | float32, 20 steps: max rel Δ loss / params | float64, all steps: members | "
          "max rel Δ loss / params |")
    print("|---|---|---|---|")
    for a in agreements:
        print(f"| ({a['case']}) | {a['agree32'][0]:.1e} / {a['agree32'][1]:.1e} | "
              f"{a['m64']} × {a['steps']} steps | {a['agree64'][0]:.1e} / {a['agree64'][1]:.1e} |")


if __name__ == "__main__":
    main()

"""``gdlab sweep``: one phenomenon over a grid of config values and seeds."""

from __future__ import annotations

import argparse
import sys

from gdlab.cli.cmd_run import add_run_options


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="run a phenomenon over a grid of config values",
        description="Run NAME at every point of the Cartesian product of the --grid values, "
                    "each over --seeds seeds; every run is stored and finished runs are reused "
                    "unless --force. Values are separated by commas; for tuple-valued fields "
                    "separate values by semicolons (widths=64,64;128,128).",
        epilog="examples:\n"
               "  gdlab sweep logistic-max-margin --grid lr=0.1,0.5,1 --grid n=20,40 --seeds 3\n"
               "  gdlab sweep logistic-max-margin --grid lr=0.1,1 --executor pool --jobs 2\n"
               "  gdlab sweep logistic-max-margin --grid lr=0.1,1 --executor ray "
               "--address ray://head:10001",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", metavar="NAME", help="phenomenon name")
    p.add_argument("--grid", action="append", default=[], required=True, metavar="KEY=V1,V2",
                   help="a config field and its values (repeatable: the grid is their product)")
    add_run_options(
        p,
        seeds_help="number of seeds 0..N-1 per grid point (default: the phenomenon's own)",
        set_help="fix a config field at every point (repeatable)",
        strict_help="exit with status 1 unless the claim holds at every point",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import gdlab.phenomena  # noqa: F401 — register the catalog
    from gdlab.phenomena._config import parse_overrides
    from gdlab.runner.executors import executor_for
    from gdlab.runner.session import run_plans
    from gdlab.runner.sweep import parse_grid, sweep_plans
    from gdlab.store import Store

    executor_for(args.executor, jobs=args.jobs, address=args.address)  # fail before any run
    grid = parse_grid(args.grid)
    plans = sweep_plans(args.name, grid, preset="full" if args.full else "quick", seeds=args.seeds,
                        overrides=parse_overrides(args.overrides), device=args.device)
    progress = not args.no_progress and sys.stderr.isatty()
    total = sum(len(p.seeds) for p in plans)
    print(f"gdlab: sweep {args.name}: {len(plans)} grid points, {total} runs -> {args.store}",
          file=sys.stderr)
    with Store(args.store) as store:
        results = run_plans(plans, store, jobs=args.jobs, force=args.force, progress=progress,
                            executor=args.executor, address=args.address)
    print(sweep_table(results, list(grid)))
    if args.strict and any(r.verdict.status != "holds" for r in results):
        return 1
    return 0


def sweep_table(results, keys: list[str]) -> str:
    """One row per grid point: its values, the verdict, seeds holding, compute time."""
    rows = [[_fmt(getattr(r.config, k)) for k in keys]
            + [r.verdict.status, f"{r.verdict.seeds_holding}/{r.verdict.n_seeds}",
               f"{r.compute_seconds:.1f}s"] for r in results]
    head = [*keys, "verdict", "seeds", "time"]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("-" * len(lines[0]))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    held = sum(r.verdict.status == "holds" for r in results)
    lines.append(f"holds at {held}/{len(results)} grid points")
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)

"""``gdlab run``: run phenomena, store the runs, print the verdicts."""

from __future__ import annotations

import argparse
import sys

from gdlab.cli.main import add_store_arg, positive_int


def add_run_options(p: argparse.ArgumentParser, *, seeds_help: str, set_help: str,
                    strict_help: str) -> None:
    """The options ``gdlab run`` and ``gdlab sweep`` share: size, seeds, overrides, device,
    store, workers, executor, --force, --no-progress, --strict."""
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="quick sizes (default)")
    size.add_argument("--full", action="store_true", help="full, paper-like sizes (slow)")
    p.add_argument("--seeds", type=positive_int, default=None, metavar="N", help=seeds_help)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help=set_help)
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    add_store_arg(p)
    p.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                   help="worker processes (default 1: inline)")
    _add_executor_args(p)
    p.add_argument("--force", action="store_true", help="rerun runs already in the store")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--strict", action="store_true", help=strict_help)


def _add_executor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=("inline", "pool", "ray"), default=None,
                   help="where runs execute (default: pool when --jobs > 1, else inline); "
                        "ray needs the ray extra")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="Ray cluster address for --executor ray (ray://HOST:10001, HOST:6379 "
                        "or auto); default: start a local Ray instance")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run", help="run phenomena and print their verdicts",
        description="Run one or more phenomena (or 'all') over seeds; every run is stored, "
                    "finished runs (same config and seed) are reused unless --force.",
        epilog="examples:\n"
               "  gdlab run icl-one-step-gd --quick --seeds 5\n"
               "  gdlab run logistic-max-margin --set steps=20000 --set lr=0.5\n"
               "  gdlab run all --quick --jobs 2 --store results.db\n"
               "  gdlab run all --executor ray --address ray://head:10001",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="phenomenon name(s), or 'all'")
    add_run_options(
        p,
        seeds_help="number of seeds 0..N-1 (default: the phenomenon's own, usually 5)",
        set_help="override a config field (repeatable); tuples as 1,2,3",
        strict_help="exit with status 1 when a claim fails or is inconclusive",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    import gdlab.phenomena  # noqa: F401 — register the catalog
    from gdlab.phenomena._config import parse_overrides
    from gdlab.report.terminal import verdict_table
    from gdlab.runner.plan import make_plans
    from gdlab.runner.session import run_plans
    from gdlab.store import Store

    names = args.names[0] if args.names == ["all"] else args.names
    if "all" in args.names and len(args.names) > 1:
        from gdlab.errors import UserInputError

        raise UserInputError("'all' cannot be combined with other names")
    from gdlab.runner.executors import executor_for

    executor_for(args.executor, jobs=args.jobs, address=args.address)  # fail before any run
    plans = make_plans(names, preset="full" if args.full else "quick", seeds=args.seeds,
                       overrides=parse_overrides(args.overrides), device=args.device)
    store = Store(args.store)
    progress = not args.no_progress and sys.stderr.isatty()
    total = sum(len(p.seeds) for p in plans)
    print(f"gdlab: {len(plans)} phenomen{'on' if len(plans) == 1 else 'a'}, {total} runs "
          f"-> {args.store}", file=sys.stderr)

    def announce(res) -> None:
        if not progress:
            v = res.verdict
            reused = f", {res.reused} reused" if res.reused else ""
            print(f"  {v.phenomenon}: {v.status} ({v.seeds_holding}/{v.n_seeds} seeds{reused})",
                  file=sys.stderr)

    with store:
        results = run_plans(plans, store, jobs=args.jobs, force=args.force, progress=progress,
                            on_result=announce, executor=args.executor, address=args.address)
    print(verdict_table([r.verdict for r in results], [r.compute_seconds for r in results]))
    if args.strict and any(r.verdict.status != "holds" for r in results):
        return 1
    return 0


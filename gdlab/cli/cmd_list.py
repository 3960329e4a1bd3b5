"""``gdlab list``: the catalog of claims (or of optimizers)."""

from __future__ import annotations

import argparse
import textwrap


def add_parser(sub) -> None:
    p = sub.add_parser(
        "list", help="list the phenomena (claims) or optimizers",
        description="List every registered phenomenon with its claim and source, or every "
                    "update rule with --kind optimizer.",
        epilog="examples:\n  gdlab list\n  gdlab list --kind optimizer",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--kind", choices=("phenomenon", "optimizer"), default="phenomenon")
    p.add_argument("--verbose", "-v", action="store_true", help="print claims and sources in full")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.kind == "optimizer":
        from gdlab.optim import all_optimizers

        specs = all_optimizers()
        w = max(len(s.name) for s in specs)
        for s in specs:
            print(f"{s.name:<{w}}  {s.rule}")
            print(f"{'':<{w}}  source: {s.source}")
        return 0
    import gdlab.phenomena as ph

    items = ph.all_phenomena()
    w = max(len(p.name) for p in items)
    group = None
    for p in items:
        if p.group != group:
            group = p.group
            print(f"\n# {group or 'other'}")
        claim = p.claim if args.verbose else textwrap.shorten(p.claim, 100)
        print(f"{p.name:<{w}}  {claim}")
        if args.verbose:
            print(f"{'':<{w}}  source: {p.source}")
    print(f"\n{len(items)} phenomena; `gdlab run NAME --quick` runs one, `gdlab run all` all.")
    return 0

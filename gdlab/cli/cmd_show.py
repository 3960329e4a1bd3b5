"""``gdlab show``: the latest verdict of one phenomenon, with every seed's numbers."""

from __future__ import annotations

import argparse

from gdlab.cli.main import add_store_arg


def add_parser(sub) -> None:
    p = sub.add_parser(
        "show", help="show the latest verdict of a phenomenon",
        description="Print the latest stored verdict of NAME: claim, prediction, each check's "
                    "numbers and every seed.",
        epilog="example:\n  gdlab show icl-one-step-gd --store gdlab.db",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", metavar="NAME")
    add_store_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import gdlab.phenomena as ph
    from gdlab.errors import UserInputError
    from gdlab.phenomena._verdict import Verdict
    from gdlab.report.terminal import verdict_detail
    from gdlab.store import Store

    phen = ph.get(args.name)
    with Store(args.store) as store:
        sv = store.latest_verdict(phen.name)
        if sv is None:
            raise UserInputError(
                f"no verdict for {phen.name} in {args.store}; run `gdlab run {phen.name}` first")
        runs = [store.get_run(i) for i in sv.run_ids]
    print(f"{phen.name}: {phen.claim}\nsource: {phen.source}\n")
    print(verdict_detail(Verdict.from_dict(sv.verdict)))
    secs = sum(r.seconds for r in runs)
    print(f"\npreset {sv.preset}, config {sv.config_hash}, {len(runs)} runs, {secs:.1f} s of compute")
    return 0

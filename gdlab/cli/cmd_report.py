"""``gdlab report``: the verdict table, and with --out a static HTML report."""

from __future__ import annotations

import argparse
import sys

from gdlab.cli.main import add_store_arg


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report", help="print the verdict table; --out DIR writes an HTML report",
        description="Summarize the latest verdict of every phenomenon in the store. With --out, "
                    "also write DIR/index.html with each claim's numbers and figure.",
        epilog="examples:\n  gdlab report\n  gdlab report --out report && xdg-open report/index.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_arg(p)
    p.add_argument("--out", metavar="DIR", default=None, help="write an HTML report into DIR")
    p.add_argument("names", nargs="*", metavar="NAME", help="only these phenomena")
    p.set_defaults(func=run)


def run(args) -> int:
    import gdlab.phenomena  # noqa: F401 — register the catalog
    from gdlab.errors import UserInputError
    from gdlab.report import load_entries, verdict_table, write_report
    from gdlab.store import Store

    with Store(args.store) as store:
        entries = load_entries(store, args.names or None)
        if not entries:
            raise UserInputError(f"no verdicts in {args.store}; run `gdlab run all --quick` first")
        print(verdict_table([e.verdict for e in entries], [e.seconds for e in entries]))
        if args.out:
            try:
                page = write_report(entries, args.out, store_path=args.store)
            except OSError as e:
                raise UserInputError(f"cannot write report to {args.out}: {e.strerror}") from None
            print(f"\nreport written to {page}", file=sys.stderr)
    return 0

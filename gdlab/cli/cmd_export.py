"""``gdlab export``: every run of a store as one table (CSV or Parquet)."""

from __future__ import annotations

import argparse
import os
import sys

from gdlab.cli.main import add_store_arg

FORMATS = ("csv", "parquet")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="write one row per run to a CSV or Parquet file",
        description="Export the runs of a store, one row per run: phenomenon, preset, config "
                    "hash, seed, status, the verdict of its config, timings, versions, every "
                    "config field (config.*) and every scalar measurement (values.*). Needs "
                    "the export extra (pandas; pyarrow for parquet). With --what series or "
                    "verdicts, export metric series (long form) or verdicts instead.",
        epilog="examples:\n"
               "  gdlab export --store gdlab.db --format csv --out runs.csv\n"
               "  gdlab export --out lmm.parquet --phenomenon logistic-max-margin\n"
               "  gdlab export --what series --format parquet --out series.parquet",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_store_arg(p)
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="file format (default: from the --out suffix)")
    p.add_argument("--out", required=True, metavar="FILE", help="file to write")
    p.add_argument("--phenomenon", default=None, metavar="NAME", help="only this phenomenon")
    p.add_argument("--what", choices=("runs", "series", "verdicts"), default="runs",
                   help="what to export (default: runs)")
    p.set_defaults(func=run)


def run(args) -> int:
    from gdlab.errors import UserInputError
    from gdlab.store import query

    fmt = args.format or _format_from_suffix(args.out)
    if not os.path.exists(args.store):
        raise UserInputError(f"no store at {args.store}; pass --store PATH")
    try:
        query.pandas()
        if fmt == "parquet":
            import pyarrow  # noqa: F401 — pandas needs it for parquet
    except ImportError as e:
        name = getattr(e, "name", None) or "pandas"
        raise UserInputError(f"gdlab export --format {fmt} needs {name}: "
                             "pip install 'gdlab[export]'") from None
    reader = {"runs": query.runs_frame, "series": _series,
              "verdicts": query.verdicts_frame}[args.what]
    frame = reader(args.store, phenomenon=args.phenomenon)
    try:
        if fmt == "csv":
            frame.to_csv(args.out, index=False)
        else:
            frame.to_parquet(args.out, index=False)
    except OSError as e:
        raise UserInputError(f"cannot write {args.out}: {e.strerror or e}") from None
    print(f"gdlab: {len(frame)} rows ({args.what}) -> {args.out}", file=sys.stderr)
    return 0


def _series(store, phenomenon=None):
    from gdlab.store import query

    return query.series_frame(store, phenomenon=phenomenon)


def _format_from_suffix(path: str) -> str:
    from gdlab.errors import UserInputError

    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise UserInputError(f"cannot tell the format of {path!r}; "
                         "pass --format csv or --format parquet")

"""The ``gdlab`` command: a thin shell over library calls, one module per subcommand.

Bad input (an unknown name, a bad override, an unusable store) prints one line and exits
with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from gdlab.errors import UserInputError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    from gdlab.cli import cmd_export, cmd_list, cmd_report, cmd_run, cmd_show, cmd_sweep

    parser = argparse.ArgumentParser(
        prog="gdlab",
        description="A laboratory for the theory of gradient-descent training: every claim an "
                    "executable experiment with a verdict.",
        epilog="examples:\n  gdlab list\n  gdlab run icl-one-step-gd --quick --seeds 5\n"
               "  gdlab run all --quick --jobs 2 && gdlab report --out report\n"
               "  gdlab show logistic-max-margin",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from gdlab import __version__

    parser.add_argument("--version", action="version", version=f"gdlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in (cmd_list, cmd_run, cmd_show, cmd_report, cmd_sweep, cmd_export):
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gdlab`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserInputError as e:
        print(f"gdlab: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ngdlab: interrupted; finished runs are in the store and will not be redone.",
              file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`gdlab list | head`): stop quietly, as Unix tools do. Point
        # stdout at devnull so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def add_store_arg(p: argparse.ArgumentParser) -> None:
    """The shared ``--store PATH`` option."""
    p.add_argument("--store", default="gdlab.db", metavar="PATH",
                   help="SQLite results file (default: ./gdlab.db)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

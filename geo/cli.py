"""The command line: ``python -m geo COMMAND …``.

Every command calls the same core functions as the app. Domain errors become one line on
stderr and exit code 1; usage errors exit 2 (argparse); nothing prints a traceback
unless ``NANGUAN_DEBUG=1`` is set.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence

import pandas as pd

from ._atomic import write_bytes_atomic
from ._table import text_table
from .errors import RenewalError
from .io import load_layers
from .progress import load_targets, plan_progress
from .settings import Settings
from .stats import MAIN_COLUMNS, district_stats

__all__ = ["COMMANDS", "build_parser", "main"]

log = logging.getLogger(__name__)

FORMATS = ("table", "csv", "json")


def _render(frame: pd.DataFrame, fmt: str, *, for_file: bool) -> bytes:
    """``frame`` as bytes in ``fmt``; CSV files get a BOM so Excel reads the Chinese."""
    if fmt == "csv":
        buf = io.StringIO()
        frame.to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue().encode("utf-8-sig" if for_file else "utf-8")
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", double_precision=15))
        return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    return (text_table(frame) + "\n").encode("utf-8")


def _emit(frame: pd.DataFrame, args: argparse.Namespace) -> None:
    if args.out:
        write_bytes_atomic(args.out, _render(frame, args.format, for_file=True))
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(_render(frame, args.format, for_file=False))
        sys.stdout.flush()


def cmd_stats(args: argparse.Namespace) -> None:
    """Per-district statistics of a source."""
    layers = load_layers(args.source)
    table = district_stats(layers, crs=args.crs)
    if args.format == "table" and not args.wide:
        table = table[list(MAIN_COLUMNS)]
    _emit(table, args)


def cmd_progress(args: argparse.Namespace) -> None:
    """The plan's figures against a source."""
    layers = load_layers(args.source)
    frame = plan_progress(layers, load_targets(args.targets), crs=args.crs).reset_index()
    _emit(frame, args)


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table for people (default), csv or json for machines (UTF-8)",
    )
    p.add_argument("--out", metavar="FILE", help="write to FILE (replaced atomically) instead of standard output")
    p.add_argument(
        "--crs",
        metavar="EPSG:nnnn",
        help="metric CRS to measure in (default: the CGCS2000 Gauss-Kruger zone of the data, EPSG:4551)",
    )


def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    """The argument parser with every command."""
    settings = settings or Settings.from_env()
    parser = argparse.ArgumentParser(
        prog="python -m geo",
        description="南关城市更新一张图 — measure, check and convert the renewal layers.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("stats", help="lengths, areas, counts and households per sub-district")
    p.add_argument("source", metavar="SOURCE", help="a GeoPackage with the catalogue layers")
    _add_output(p)
    p.add_argument("--wide", action="store_true", help="with --format table: include the breakdown columns")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("progress", help="the 2020 plan's figures against the data")
    p.add_argument("source", metavar="SOURCE", help="a GeoPackage with the catalogue layers")
    p.add_argument(
        "--targets", metavar="FILE", default=str(settings.targets), help="targets file (default: data/targets.toml)"
    )
    _add_output(p)
    p.set_defaults(func=cmd_progress)
    return parser


#: Command names, for documentation tests.
COMMANDS: tuple[str, ...] = ("stats", "progress")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    func: Callable[[argparse.Namespace], None] = args.func
    try:
        func(args)
    except RenewalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        if os.environ.get("NANGUAN_DEBUG") == "1":
            raise
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

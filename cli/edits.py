"""The command line's edit commands: ``edit``, ``history`` and ``undo``.

Kept apart from :mod:`cli`, which adds them to its parser with
:func:`add_edit_commands`; they print and exit the same way (one line on refusal, exit 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from geo._table import text_table
from geo.auth import hash_password
from geo.edits import Change, EditError, edit_features, undo_change
from geo.errors import message
from geo.export import csv_bytes
from geo.io import read_history
from layers import LAYER_NAMES

__all__ = ["add_edit_commands", "parse_day"]


_SOURCE = "a GeoPackage, or a postgresql://user@host/db?schema=S URL, with the layers"


def parse_day(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` option value; argparse turns the ValueError into a usage error."""
    return dt.date.fromisoformat(text)


def _assignments(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise EditError("edit.not_pair", pair=pair)
        values[field.strip()] = value
    return values


def _print_changes(args: argparse.Namespace, changes: list[Change]) -> None:
    lang = args.message_lang
    if not changes:
        print(message("edit.nothing", lang))
    for c in changes:
        done: dict[str, Any] = {
            "change": c.change_id,
            "layer": c.layer,
            "id": c.id,
            "field": c.field,
            "by": c.by,
            "date": c.date,
        }
        print(message("edit.recorded", lang, old=c.old, new=c.new, **done))


def cmd_edit(args: argparse.Namespace) -> None:
    """Change fields of one feature, validated and recorded."""
    changes = edit_features(
        args.source,
        args.layer,
        [args.id],
        _assignments(args.values),
        by=args.by,
        date=args.date,
        note=args.note,
    )
    _print_changes(args, changes)


def cmd_history(args: argparse.Namespace) -> None:
    """The recorded changes of a source."""
    frame = read_history(args.source, layer=args.layer, feature=args.id)
    if args.format == "json":
        records = [
            {k: (None if v is None or v != v else v) for k, v in row.items()}
            for row in frame.astype(object).to_dict(orient="records")
        ]
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=1) + "\n")
    elif args.format == "csv":
        sys.stdout.buffer.write(csv_bytes(frame, bom=False))  # no formula from a value or a note
        sys.stdout.flush()
    else:
        print(text_table(frame) if len(frame) else message("history.none", args.message_lang))


def cmd_undo(args: argparse.Namespace) -> None:
    """Revert one recorded change (the revert is recorded too)."""
    _print_changes(args, undo_change(args.source, args.change_id, by=args.by, note=args.note))


def cmd_hash_password(args: argparse.Namespace) -> None:
    """Print an Argon2 hash of a password read from standard input, for secrets.toml."""
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise EditError("auth.no_password")
    print(hash_password(password))


def add_edit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``edit``, ``history`` and ``undo`` to the command line's sub-commands."""
    p = sub.add_parser("edit", help="change fields of a feature (validated, recorded in the history)")
    p.add_argument("source", metavar="SOURCE", help=_SOURCE)
    p.add_argument("layer", metavar="LAYER", choices=LAYER_NAMES, help="the layer")
    p.add_argument("id", metavar="ID", help="the feature's id")
    p.add_argument("values", metavar="FIELD=VALUE", nargs="+", help="new values (Chinese names of codes accepted)")
    p.add_argument("--by", required=True, metavar="NAME", help="who makes the change")
    p.add_argument("--date", type=parse_day, metavar="YYYY-MM-DD", help="when it happened (default: today)")
    p.add_argument("--note", default="", metavar="TEXT", help="why, or where the information comes from")
    p.set_defaults(func=cmd_edit)

    p = sub.add_parser("history", help="the recorded changes of a source")
    p.add_argument("source", metavar="SOURCE", help=_SOURCE)
    p.add_argument("--layer", choices=LAYER_NAMES, help="only this layer's changes")
    p.add_argument("--id", metavar="ID", help="only this feature's changes")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="table (default), csv or json")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("undo", help="revert one recorded change (the revert is recorded too)")
    p.add_argument("source", metavar="SOURCE", help=_SOURCE)
    p.add_argument("change_id", metavar="CHANGE_ID", type=int, help="the change's number (see history)")
    p.add_argument("--by", required=True, metavar="NAME", help="who reverts it")
    p.add_argument("--note", default="", metavar="TEXT", help="why")
    p.set_defaults(func=cmd_undo)

    p = sub.add_parser("hash-password", help="hash an editor's password (read from stdin) for secrets.toml")
    p.set_defaults(func=cmd_hash_password)

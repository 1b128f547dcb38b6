"""``nanguan app``: the Streamlit app, served from wherever the package is installed.

The page (``app.py``) and its Streamlit settings (``.streamlit/config.toml``) lie in
:data:`geo.settings.PROJECT_ROOT`: the checkout, or the installed ``nanguan`` folder.
Streamlit reads its settings from the folder it starts in (and the user's
``~/.streamlit``), not from the page's, so the project's settings are passed on as
options where neither of those sets them; options given after ``app`` come last and win.
The command then becomes ``python -m streamlit run …`` (the same process, so a signal
that stops ``nanguan app`` stops the server).
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from geo.settings import PROJECT_ROOT

__all__ = ["APP", "add_app_command", "streamlit_command", "streamlit_options"]

#: The page ``nanguan app`` serves.
APP = PROJECT_ROOT / "app.py"
_CONFIG = Path(".streamlit") / "config.toml"


def _options(path: Path) -> dict[str, object]:
    """The ``section.option`` settings of a Streamlit config file; none when it is absent."""
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        config = tomllib.load(f)
    return {f"{section}.{name}": value for section, table in config.items() for name, value in table.items()}


def _flag(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def streamlit_options(*, cwd: Path, home: Path) -> list[str]:
    """The project's Streamlit settings as ``--section.option=value`` options, but for
    those set by the config file of ``cwd`` or of ``home`` (the user's)."""
    own = _options(PROJECT_ROOT / _CONFIG)
    chosen = _options(cwd / _CONFIG) | _options(home / _CONFIG)
    return [f"--{key}={_flag(value)}" for key, value in own.items() if key not in chosen]


def streamlit_command(extra: Sequence[str], *, cwd: Path, home: Path) -> list[str]:
    """The command that serves the app: ``python -m streamlit run`` on :data:`APP`."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), *streamlit_options(cwd=cwd, home=home), *extra]


def cmd_app(args: argparse.Namespace) -> None:
    """Become the Streamlit server of the app (does not return)."""
    command = streamlit_command(args.streamlit_args, cwd=Path.cwd(), home=Path.home())
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


def add_app_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``app`` to the subcommands ``sub``; :func:`cli.main` passes it the arguments it
    does not know (``streamlit run``'s) as ``streamlit_args``."""
    p = sub.add_parser(
        "app",
        help="serve the Streamlit app; further options go to streamlit run (--server.port 8502 …)",
        description="Serve the app with streamlit run; options after app (--server.port, --server.address …) "
        "go to Streamlit.",
    )
    p.set_defaults(func=cmd_app, streamlit_args=[])

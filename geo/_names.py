"""File names from outside as messages show them.

A browser sends whatever name the user's machine had: a whole Windows path, a name too
long for this server's file system (114 Chinese characters are 342 bytes of UTF-8, more
than the 255 Linux allows), control characters. The server keeps such a file under a
name of its own; messages show the user's name through :func:`file_label`.
"""

from __future__ import annotations

import re

__all__ = ["file_label"]

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Longest name, in characters, a message shows whole.
LABEL_CHARS = 60


def file_label(name: str, limit: int = LABEL_CHARS) -> str:
    """``name`` as a message shows it: its last part (after any ``/`` or ``\\``), control
    characters (a NUL …) as ``?``, cut to ``limit`` characters ending in "…"."""
    last = re.split(r"[/\\]", name)[-1] or name
    shown = _CONTROLS.sub("?", last)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"

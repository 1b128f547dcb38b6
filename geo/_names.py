"""File names from outside as messages show them.

A browser sends whatever name the user's machine had: a whole Windows path, a name too
long for this server's file system (114 Chinese characters are 342 bytes of UTF-8, more
than the 255 Linux allows), control characters. The server keeps such a file under a
name of its own; messages show the user's name through :func:`file_label`.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["file_label", "stored_name"]

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Longest name, in characters, a message shows whole.
LABEL_CHARS = 60


def file_label(name: str, limit: int = LABEL_CHARS) -> str:
    """``name`` as a message shows it: its last part (after any ``/`` or ``\\``), control
    characters (a NUL …) as ``?``, cut to ``limit`` characters ending in "…"."""
    last = re.split(r"[/\\]", name)[-1] or name
    shown = _CONTROLS.sub("?", last)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def stored_name(name: str) -> str:
    """The name the server keeps an upload called ``name`` under: short, of ordinary
    characters, the same for the same name, with the name's ending when it is a plain one
    (``.geojson``), so the importer reads it as that format."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    ending = re.search(r"\.[A-Za-z0-9]{1,10}$", name)
    return f"upload-{digest}{ending.group(0).lower() if ending else ''}"

"""GDAL's remarks about a file, logged instead of printed.

pyogrio passes GDAL's warnings and non-fatal errors on as Python warnings (from a C
callback, so they cannot be caught where they happen). About a user's file they are
remarks, not the outcome: the outcome is the layer or one error. They go to the log.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

__all__ = ["gdal_remarks"]


@contextlib.contextmanager
def gdal_remarks(log: logging.Logger, path: Path, *, shown: str) -> Iterator[None]:
    """Log at INFO, once each, the warnings raised in the block, naming ``path`` as ``shown``."""
    with warnings.catch_warnings(record=True) as remarks:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for remark in dict.fromkeys(str(w.message) for w in remarks):
                log.info("%s: %s", shown, remark.replace(str(path), Path(shown).name))

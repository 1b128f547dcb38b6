"""The pure core of the Nanguan urban-renewal map: CRS, measuring, statistics and I/O.

Nothing in this package imports streamlit; the app and the command line both call it.
GDAL is set up for files from outside before anything reads one (:mod:`geo._gdal`).
"""

from . import _gdal  # noqa: F401  (first: no module reads a file before GDAL is set up)
from .errors import CRSError, Problem, RenewalError, SourceError, ValidationError

__all__ = ["CRSError", "Problem", "RenewalError", "SourceError", "ValidationError"]

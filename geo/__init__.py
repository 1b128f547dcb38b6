"""The pure core of the Nanguan urban-renewal map: CRS, measuring, statistics and I/O.

Nothing in this package imports streamlit; the app and the command line both call it.
"""

from .errors import CRSError, Problem, RenewalError, SourceError, ValidationError

__all__ = ["CRSError", "Problem", "RenewalError", "SourceError", "ValidationError"]

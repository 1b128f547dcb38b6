"""The exceptions of the renewal map: one root, a few children.

The app shows them with ``st.error`` and the command line prints ``str(error)`` as one
line and exits 1, so every message says what is wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["BalanceError", "CRSError", "CoverageError", "Problem", "RenewalError", "SourceError", "ValidationError"]


class RenewalError(Exception):
    """Root of every error this tool raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a layer.

    Parameters
    ----------
    layer : str
        Layer name.
    feature : str or None
        Feature id (or row number as ``"#12"`` when the id itself is missing), None for a
        problem of the whole layer.
    field : str or None
        Field name, ``"geometry"``, or None.
    message : str
        What is wrong.
    """

    layer: str
    feature: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.layer
        if self.feature is not None:
            where += f" {self.feature}"
        if self.field is not None:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class ValidationError(RenewalError, ValueError):
    """Data that breaks its layer's contract; carries every problem found.

    Parameters
    ----------
    problems : sequence of Problem
        All problems, in the order found.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        n = len(self.problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f"; and {n - 5} more" if n > 5 else ""
        return f"{n} problem{'s' if n != 1 else ''} found: {shown}{more}"

    @classmethod
    def collect(cls, problems: Iterable[Problem]) -> None:
        """Raise with ``problems`` when there is at least one."""
        found = list(problems)
        if found:
            raise cls(found)


class CRSError(RenewalError, ValueError):
    """A missing, unknown or unsuitable coordinate reference system."""


class SourceError(RenewalError, OSError):
    """A data source that cannot be read or written (path, format, encoding)."""


class CoverageError(ValidationError):
    """Statistics units that overlap: a feature there would be counted twice."""


class BalanceError(RenewalError, ArithmeticError):
    """An internal error: the districts and OUTSIDE do not add up to the layer's total.

    Raised, never shown as a figure: a table whose rows do not add up is wrong.
    """

"""Checking that the statistics units (sub-districts) form a coverage.

Statistics apportion every feature among districts, so districts must not overlap: an
overlap would be counted twice. Real boundary files are rarely perfect, so the check has a
tolerance: overlaps larger than it (default 1 m², the ``NANGUAN_OVERLAP_TOLERANCE_M2``
setting and the ``--overlap-tolerance`` option) are refused; smaller ones, and gaps between
districts, are reported as warnings (whatever falls in a gap is counted ``OUTSIDE``).
Areas are measured in a metric CRS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely

from .errors import CoverageError, Problem, message

__all__ = ["DEFAULT_TOLERANCE_M2", "CoverageIssue", "check_coverage", "coverage_issues"]

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE_M2 = 1.0


@dataclass(frozen=True)
class CoverageIssue:
    """One flaw of a districts layer.

    Attributes
    ----------
    kind : {"overlap", "gap"}
        Two districts overlapping, or a hole between districts inside their outline.
    codes : tuple of str
        The two overlapping districts' codes, or the codes of the districts around a gap.
    area_m2 : float
        The overlap's or the gap's area, m².
    """

    kind: Literal["overlap", "gap"]
    codes: tuple[str, ...]
    area_m2: float

    def text(self, lang: str = "en") -> str:
        """The flaw as one line in ``lang`` (``"zh"`` or ``"en"``)."""
        if self.kind == "overlap":
            return message("coverage.overlap", lang, a=self.codes[0], b=self.codes[1], area_m2=self.area_m2)
        return message("coverage.gap", lang, codes=self.codes, area_m2=self.area_m2)

    def __str__(self) -> str:
        return self.text("en")


def coverage_issues(geoms: np.ndarray, codes: list[str]) -> list[CoverageIssue]:
    """Every overlap between two districts and every gap between them.

    Parameters
    ----------
    geoms : ndarray of shapely polygons
        The districts, in a metric CRS (m).
    codes : list of str
        Their codes, in the same order.

    Returns
    -------
    list of CoverageIssue
        Overlaps first (largest first), then gaps (largest first); empty for a clean
        coverage.
    """
    if len(geoms) == 0:
        return []
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    overlap = shapely.area(shapely.intersection(geoms[a], geoms[b])) if len(a) else np.zeros(0)
    issues = [
        CoverageIssue("overlap", tuple(sorted((codes[i], codes[j]))), float(area))
        for i, j, area in zip(a, b, overlap, strict=True)
        if area > 0
    ]
    issues.sort(key=lambda x: -x.area_m2)
    union = shapely.union_all(geoms)
    holes = [shapely.Polygon(ring) for poly in shapely.get_parts(union) for ring in poly.interiors]
    own_holes = shapely.union_all([shapely.Polygon(r) for g in shapely.get_parts(geoms) for r in g.interiors])
    gaps: list[CoverageIssue] = []
    for hole in holes:
        gap = hole.difference(own_holes) if not own_holes.is_empty else hole
        if gap.area <= 0:
            continue
        around = sorted({codes[i] for i in tree.query(gap, predicate="touches")})
        gaps.append(CoverageIssue("gap", tuple(around), float(gap.area)))
    gaps.sort(key=lambda x: -x.area_m2)
    return issues + gaps


def check_coverage(
    geoms: np.ndarray, codes: list[str], *, layer: str, tolerance_m2: float = DEFAULT_TOLERANCE_M2
) -> list[CoverageIssue]:
    """Refuse overlapping districts; return the flaws small enough to tolerate.

    Parameters
    ----------
    geoms : ndarray of shapely polygons
        The districts, in a metric CRS (m).
    codes : list of str
        Their codes.
    tolerance_m2 : float
        Overlaps up to this area (m²) are warnings; larger ones are refused.
    layer : str
        The units layer's name (``layers.units_layer().name``), for messages.

    Raises
    ------
    CoverageError
        Naming both codes and the overlap in m², for every overlap above the tolerance.
    """
    issues = coverage_issues(geoms, codes)
    refused = [i for i in issues if i.kind == "overlap" and i.area_m2 > tolerance_m2]
    if refused:
        raise CoverageError(
            [
                Problem(
                    layer,
                    None,
                    None,
                    "overlap",
                    {"a": i.codes[0], "b": i.codes[1], "area_m2": i.area_m2, "tolerance_m2": tolerance_m2},
                )
                for i in refused
            ]
        )
    for issue in issues:
        log.warning("%s: %s", layer, issue)
    return issues

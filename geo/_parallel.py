"""Spreading GEOS and PROJ work over the machine's cores.

Shapely's vectorised functions release the GIL, so threads give a real speed-up on large
arrays. One rule keeps this safe: a *prepared* geometry, whose GEOS indexes are built
lazily on first use, is never used by two threads at once; work is split so that each
thread touches its own.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import shapely

__all__ = ["intersection", "query", "split_map", "workers"]

T = TypeVar("T")

#: Below this many items per thread, splitting costs more than it gains.
MIN_CHUNK = 4096


def workers() -> int:
    """Threads to use: the machine's cores, at most 8."""
    return min(os.cpu_count() or 1, 8)


def split_map(fn: Callable[[slice], T], n: int, *, min_chunk: int = MIN_CHUNK) -> list[T]:
    """``fn`` over contiguous slices covering ``range(n)``, one per thread, in order."""
    parts = max(1, min(workers(), n // min_chunk))
    if parts == 1:
        return [fn(slice(0, n))]
    bounds = np.linspace(0, n, parts + 1).astype(int)
    slices = [slice(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]
    with ThreadPoolExecutor(parts) as pool:
        return list(pool.map(fn, slices))


def intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise ``a[i] ∩ b[i]`` (no prepared geometry is involved)."""
    return np.concatenate(split_map(lambda s: shapely.intersection(a[s], b[s]), len(a))) if len(a) else a


def query(tree: shapely.STRtree, geoms: np.ndarray, predicate: str) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query(geoms, predicate)`` with ``geoms`` split between threads.

    Each thread holds different elements of ``geoms``, so prepared ones are never used
    by two threads at once. Returns ``(input index, tree index)`` as the tree does.
    """

    def part(s: slice) -> np.ndarray:
        found = tree.query(geoms[s], predicate=predicate)
        found[0] += s.start
        return found

    results = split_map(part, len(geoms), min_chunk=1)
    return tuple(np.concatenate(results, axis=1)) if results else (np.zeros(0, int), np.zeros(0, int))

"""The layer catalogue of the Nanguan urban-renewal map.

``CATALOGUE`` maps each layer name to its :class:`~layers.spec.LayerSpec`, in drawing
order (districts at the bottom, points on top).
"""

from __future__ import annotations

from . import areas, districts, facilities, greenbelt, monitoring_points, parcels, pipes, rivers, roads
from .spec import Choice, FieldSpec, LayerSpec, Style

__all__ = ["CATALOGUE", "LAYER_NAMES", "Choice", "FieldSpec", "LayerSpec", "Style", "spec_for"]

CATALOGUE: dict[str, LayerSpec] = {
    m.SPEC.name: m.SPEC
    for m in (districts, areas, greenbelt, parcels, rivers, roads, pipes, facilities, monitoring_points)
}
LAYER_NAMES: tuple[str, ...] = tuple(CATALOGUE)


def spec_for(name: str) -> LayerSpec:
    """The spec of layer ``name``; KeyError listing the known layers otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"unknown layer {name!r}; known layers: {', '.join(LAYER_NAMES)}") from None

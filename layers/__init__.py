"""The layer catalogue of the Nanguan urban-renewal map.

Every module of this package that assigns a module-level ``SPEC`` (a
:class:`~layers.spec.LayerSpec`) is a layer: ``CATALOGUE`` maps each layer name to its spec,
in drawing order (``SPEC.z``: sub-districts at the bottom, points on top). Adding a layer is
adding one such module; statistics, validation, filters, the map and the exports read the
catalogue and pick it up. A layer's impact figures and its plan conflicts with other layers
(:class:`~layers.spec.Figure`, :class:`~layers.spec.Conflict`) are data of its module too.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from .spec import Choice, Conflict, FieldSpec, Figure, LayerSpec, NotAbove, Pick, Ratio, Style

__all__ = [
    "CATALOGUE",
    "LAYER_NAMES",
    "Choice",
    "Conflict",
    "FieldSpec",
    "Figure",
    "LayerSpec",
    "NotAbove",
    "Pick",
    "Ratio",
    "Style",
    "spec_for",
    "units_layer",
]


def _declares_spec(path: Path) -> bool:
    """Whether the module at ``path`` assigns ``SPEC`` at its top level (read, not run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == "SPEC" for t in targets):
            return True
    return False


def _discover() -> dict[str, LayerSpec]:
    specs: list[LayerSpec] = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.stem.startswith("_") or not _declares_spec(path):
            continue
        spec = importlib.import_module(f"{__name__}.{path.stem}").SPEC
        if not isinstance(spec, LayerSpec):
            raise TypeError(f"layers/{path.name}: SPEC is not a LayerSpec")
        specs.append(spec)
    specs.sort(key=lambda s: (s.z, s.name))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"two layer modules declare the same layer name: {names}")
    if sum(s.units for s in specs) != 1:
        raise ValueError("exactly one layer must hold the statistics units (units=True)")
    catalogue = {s.name: s for s in specs}
    _check_conflicts(catalogue)
    return catalogue


def _check_conflicts(catalogue: dict[str, LayerSpec]) -> None:
    """Refuse a conflict naming an unknown layer, codes it lacks, a kind used twice, or a
    measure the two geometries cannot have."""
    kinds: set[str] = set()
    for spec in catalogue.values():
        for conflict in spec.conflicts:
            if conflict.kind in kinds:
                raise ValueError(f"two conflicts are called {conflict.kind!r}")
            kinds.add(conflict.kind)
            if conflict.other not in catalogue:
                raise ValueError(f"layers/{spec.name}: conflict {conflict.kind!r} names no layer {conflict.other!r}")
            other = catalogue[conflict.other]
            other.check_pick(conflict.other_pick, conflict.kind)
            shapes = {spec.geometry, other.geometry}
            fits = {
                "area": shapes == {"polygon"},
                "length": "line" in shapes and "point" not in shapes,
                "count": spec.geometry == "point" and other.geometry == "polygon",
            }[conflict.measure]
            if not fits:
                raise ValueError(
                    f"conflict {conflict.kind!r}: {spec.name} ({spec.geometry}s) and {other.name} "
                    f"({other.geometry}s) have no {conflict.measure} of overlap"
                )


CATALOGUE: dict[str, LayerSpec] = _discover()
LAYER_NAMES: tuple[str, ...] = tuple(CATALOGUE)


def spec_for(name: str) -> LayerSpec:
    """The spec of layer ``name``; KeyError listing the known layers otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"unknown layer {name!r}; known layers: {', '.join(LAYER_NAMES)}") from None


def units_layer(catalogue: dict[str, LayerSpec] | None = None) -> LayerSpec:
    """The layer holding the statistics units (``districts``)."""
    for spec in (CATALOGUE if catalogue is None else catalogue).values():
        if spec.units:
            return spec
    raise KeyError("the catalogue has no layer of statistics units")

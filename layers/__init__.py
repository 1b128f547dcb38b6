"""The layer catalogue of the Nanguan urban-renewal map.

Every module of this package that assigns a module-level ``SPEC`` (a
:class:`~layers.spec.LayerSpec`) is a layer: ``CATALOGUE`` maps each layer name to its spec,
in drawing order (``SPEC.z``: sub-districts at the bottom, points on top). Adding a layer is
adding one such module; statistics, validation, filters, the map and the exports read the
catalogue and pick it up.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from .spec import Choice, FieldSpec, LayerSpec, NotAbove, Ratio, Style

__all__ = [
    "CATALOGUE",
    "LAYER_NAMES",
    "Choice",
    "FieldSpec",
    "LayerSpec",
    "NotAbove",
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
    return {s.name: s for s in specs}


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

"""Greenbelt plans (绿地): parks, roadside and waterfront green, protective belts."""

from __future__ import annotations

from . import _common as c
from .spec import Choice, Figure, LayerSpec, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="greenbelt",
    zh="绿地",
    en="Greenbelt",
    geometry="polygon",
    id_field="green_id",
    fields=(
        c.id_field("green_id"),
        c.name_field(),
        c.kind_field(
            Choice("park", "公园绿地", "Park", ("公园",), "#388e3c"),
            Choice("roadside", "道路绿地", "Roadside", ("道路绿化", "街路绿化"), "#7cb342"),
            Choice("waterfront", "滨水绿地", "Waterfront", ("滨河绿地", "滨水"), "#26a69a"),
            Choice("protective", "防护绿地", "Protective", ("防护林", "防护"), "#558b2f"),
        ),
        c.status_field(
            c.EXISTING,
            c.PLANNED,
            Choice("adjusted", "规划调整", "Adjusted", ("调整", "调规"), "#c0ca33"),
        ),
    ),
    style=Style(by="kind", weight=1.5, fill_opacity=0.5),
    measure="area",
    unit_zh="处",
    z=10,
    filters=("kind",),
    impact=(Figure("measure"),),
)

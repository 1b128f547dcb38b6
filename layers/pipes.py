"""Utility pipelines (管线): water, power, heat, gas and telecom."""

from __future__ import annotations

from . import _common as c
from .spec import Choice, Conflict, FieldSpec, Figure, LayerSpec, Pick, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="pipes",
    zh="管线",
    en="Pipelines",
    geometry="line",
    id_field="pipe_id",
    fields=(
        c.id_field("pipe_id"),
        c.name_field(),
        FieldSpec(
            "utility",
            "str",
            "管线类型",
            "Utility",
            choices=(
                Choice("water", "供水", "Water", ("给水", "自来水", "水"), "#1e88e5"),
                Choice("power", "电力", "Power", ("供电", "电", "高压"), "#e53935"),
                Choice("heat", "供热", "Heat", ("热力", "热"), "#fb8c00"),
                Choice("gas", "燃气", "Gas", ("天然气", "煤气", "气"), "#fdd835"),
                Choice("telecom", "通信", "Telecom", ("通讯", "电信"), "#8e24aa"),
            ),
            source_names=("管线类型", "类型", "专业", "UTILITY", "GXLX"),
        ),
        c.status_field(c.PLANNED, c.UNDER_CONSTRUCTION, c.COMPLETE),
        FieldSpec(
            "diam_mm",
            "float",
            "管径",
            "Diameter",
            required=False,
            minimum=0,
            unit="mm",
            source_names=("管径", "管径mm", "DIAMETER", "GJ"),
        ),
    ),
    style=Style(by="utility", weight=2.5, line_dash="10 4 2 4"),
    measure="length",
    unit_zh="条",
    z=40,
    breakdown=("utility",),
    filters=("utility",),
    impact=(Figure("measure"),),
    conflicts=(
        Conflict(
            "pipe_under_expropriation",
            "在建管线穿越征收中地块",
            "Pipe under construction through a parcel being expropriated",
            Pick("status", ("under_construction",)),
            "parcels",
            Pick("status", ("expropriating",)),
            "length",
            "#ff6d00",
        ),
    ),
)

"""Renewal parcels (地块): shantytown areas, expropriation plots and old communities."""

from __future__ import annotations

from . import _common as c
from .spec import Choice, Conflict, FieldSpec, Figure, LayerSpec, NotAbove, Pick, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="parcels",
    zh="更新地块",
    en="Renewal parcels",
    geometry="polygon",
    id_field="parcel_id",
    fields=(
        c.id_field("parcel_id"),
        c.name_field(),
        c.kind_field(
            Choice("shantytown", "棚户区", "Shantytown", ("棚改", "棚户区改造", "棚改地块"), "#d81b60"),
            Choice("expropriation", "征收", "Expropriation", ("征收地块", "土地征收", "征迁"), "#6d4c41"),
            Choice("old_community", "老旧小区", "Old community", ("老旧小区改造", "旧改"), "#00897b"),
        ),
        c.status_field(
            c.PLANNED,
            Choice("expropriating", "征收中", "Expropriating", ("征收", "正在征收"), "#8e24aa"),
            c.UNDER_CONSTRUCTION,
            Choice("resettled", "已回迁", "Resettled", ("回迁", "已安置", "回迁安置"), "#2e7d32"),
        ),
        FieldSpec(
            "households", "int", "户数", "Households", minimum=0, unit="户", source_names=("户数", "居民户数", "HH")
        ),
        FieldSpec(
            "resettled",
            "int",
            "回迁户数",
            "Resettled",
            minimum=0,
            unit="户",
            source_names=("回迁户数", "安置户数", "回迁", "RESETTLED"),
        ),
    ),
    style=Style(
        by="kind",
        weight=2.0,
        fill_opacity=0.45,
        status_opacity=(("planned", 0.15), ("expropriating", 0.3), ("under_construction", 0.5), ("resettled", 0.75)),
    ),
    measure="area",
    unit_zh="个",
    z=20,
    breakdown=("kind",),
    sums=("households", "resettled"),
    charts=("households",),
    filters=("kind", "status"),
    rules=(NotAbove("resettled", "households"),),
    impact=(
        Figure("measure", with_count=True),
        Figure(
            "households",
            "涉及户数（按面积比例）",
            "Households (by area share)",
            note_zh="整块地块合计 {n} 户",
            note_en="{n} in the whole parcels",
        ),
        Figure(
            "resettled",
            "回迁户数（按面积比例）",
            "Resettled (by area share)",
            note_zh="整块地块合计 {n} 户",
            note_en="{n} in the whole parcels",
        ),
    ),
    conflicts=(
        Conflict(
            "parcel_on_greenbelt",
            "规划或征收中地块占用绿地",
            "Planned or expropriating parcel on greenbelt",
            Pick("status", ("planned", "expropriating")),
            "greenbelt",
            Pick(),
            "area",
            "#d50000",
        ),
    ),
)

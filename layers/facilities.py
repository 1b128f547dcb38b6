"""Point facilities: secondary water-supply pump stations, schools, hospitals and more."""

from __future__ import annotations

from . import _common as c
from .spec import Choice, Conflict, Figure, LayerSpec, Pick, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="facilities",
    zh="公共设施",
    en="Facilities",
    geometry="point",
    id_field="fac_id",
    fields=(
        c.id_field("fac_id"),
        c.name_field(),
        c.kind_field(
            Choice("pump_station", "二次供水泵站", "Pump station", ("泵站", "二次供水", "供水泵站"), "#0288d1"),
            Choice("school", "学校", "School", ("中学", "小学", "学校建设"), "#f4511e"),
            Choice("hospital", "医院", "Hospital", ("医疗", "卫生院", "医疗卫生"), "#e53935"),
            Choice("library", "图书馆", "Library", ("图书新馆",), "#6d4c41"),
            Choice("other", "其他", "Other", ("其它", "节点"), "#546e7a"),
        ),
        c.status_field(c.EXISTING, c.PLANNED, c.UNDER_CONSTRUCTION),
    ),
    style=Style(by="kind", radius=4.0, fill_opacity=0.8),
    measure="count",
    unit_zh="处",
    z=50,
    breakdown=("kind",),
    filters=("kind",),
    impact=(Figure("count"),),
    conflicts=(
        Conflict(
            "facility_in_expropriation",
            "学校或泵站位于征收地块内",
            "School or pump station inside an expropriation parcel",
            Pick("kind", ("school", "pump_station")),
            "parcels",
            Pick("kind", ("expropriation",)),
            "count",
            "#aa00ff",
        ),
    ),
)

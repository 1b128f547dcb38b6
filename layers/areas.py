"""Key areas (重点区域) the plan names: shopping districts, showcase streets, culture, land.

They are context for the works: drawn under the other layers, labelled, and each carries
the plan's sentence it comes from.
"""

from __future__ import annotations

from . import _common as c
from .spec import Choice, FieldSpec, Figure, LayerSpec, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="areas",
    zh="重点区域",
    en="Key areas",
    geometry="polygon",
    id_field="area_id",
    fields=(
        c.id_field("area_id"),
        c.name_field(),
        c.kind_field(
            Choice("commercial", "商圈", "Shopping district", ("商业街区", "商业区", "老商业街区"), "#ef6c00"),
            Choice("showcase", "示范区", "Showcase area", ("示范区域", "精品示范区域", "精品示范区"), "#8e24aa"),
            Choice("culture", "文化", "Culture", ("文化园", "文旅", "文化旅游"), "#6d4c41"),
            Choice("finance", "金融小镇", "Finance town", ("金融", "金融区", "金融集聚区"), "#3949ab"),
            Choice("landmark", "地标区域", "Landmark area", ("地标", "地标区"), "#d81b60"),
            Choice("waterfront", "滨水空间", "Waterfront", ("滨水", "滨水区", "临水"), "#00838f"),
            Choice("reserve", "储备用地", "Reserve land", ("储备", "土地储备", "发展备用地"), "#9e9d24"),
            zh="区域类型",
            en="Kind",
        ),
        FieldSpec(
            "quote",
            "str",
            "计划原文",
            "Plan sentence",
            required=False,
            source_names=("计划原文", "原文", "依据", "QUOTE"),
        ),
    ),
    style=Style(by="kind", weight=1.5, fill_opacity=0.12, dash_by=(), label=True, popup=True),
    measure="area",
    unit_zh="处",
    z=5,
    filters=("kind",),
    context=True,
    impact=(Figure("measure", with_count=True),),
)

"""Road segments (条段) of the road-network programme, one line feature per segment."""

from __future__ import annotations

from . import _common as c
from .spec import Choice, FieldSpec, LayerSpec, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="roads",
    zh="道路",
    en="Roads",
    geometry="line",
    id_field="seg_id",
    fields=(
        c.id_field("seg_id"),
        c.name_field(),
        FieldSpec(
            "road_class",
            "str",
            "道路等级",
            "Road class",
            choices=(
                Choice("arterial", "主干路", "Arterial", ("主干道", "快速路", "主路")),
                Choice("collector", "次干路", "Collector", ("次干道", "次路")),
                Choice("local", "支路", "Local", ("支线", "街巷")),
            ),
            source_names=("道路等级", "等级", "CLASS", "DJ"),
        ),
        c.status_field(c.PLANNED, c.UNDER_CONSTRUCTION, c.OPEN),
        FieldSpec(
            "project", "str", "所属项目", "Project", required=False, source_names=("所属项目", "项目", "PROJECT")
        ),
    ),
    style=Style(by="status", weight=4.5),
    measure="length",
    unit_zh="条段",
    z=30,
    breakdown=("status",),
    filters=("status",),
)

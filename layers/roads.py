"""Road segments (条段) of the road-network programme, one line feature per segment.

Built roads carry their condition (路况) from the last survey; the plan's "道路完好率达到98%以上"
is the length in 完好 condition over the surveyed length.
"""

from __future__ import annotations

from . import _common as c
from .spec import Choice, Conflict, FieldSpec, Figure, LayerSpec, Pick, Ratio, Style

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
        FieldSpec(
            "condition",
            "str",
            "路况",
            "Condition",
            required=False,
            choices=(
                Choice("good", "完好", "Intact", ("良好", "优良", "完好路段", "intact"), "#2e7d32"),
                Choice("minor", "轻度破损", "Minor damage", ("轻微破损", "轻度损坏", "一般", "中等"), "#f9a825"),
                Choice("severe", "严重破损", "Severe damage", ("重度破损", "严重损坏", "破损严重", "差"), "#c62828"),
            ),
            source_names=("路况", "道路状况", "路面状况", "完好情况", "CONDITION", "LK"),
        ),
        FieldSpec(
            "surveyed",
            "str",
            "调查日期",  # a Shapefile field name in GBK: at most 10 bytes
            "Surveyed",
            required=False,
            date=True,
            source_names=("调查日期", "检测日期", "巡查日期", "路况日期", "SURVEYED", "DCRQ"),
        ),
    ),
    style=Style(by="status", weight=4.5, by_options=("condition",)),
    measure="length",
    charts=("measure",),
    unit_zh="条段",
    z=30,
    breakdown=("status", "condition"),
    ratios=(Ratio("intact", "condition", ("good",), "完好率", "intact rate"),),
    filters=("status",),
    impact=(Figure("measure"),),
    conflicts=(
        Conflict(
            "road_through_greenbelt",
            "规划道路穿越现状绿地",
            "Planned road through existing greenbelt",
            Pick("status", ("planned",)),
            "greenbelt",
            Pick("status", ("existing",)),
            "length",
            "#c51162",
        ),
    ),
)

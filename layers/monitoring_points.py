"""Water monitoring sections (水体断面) of the rivers: where the water quality is sampled.

The classes are those of GB 3838-2002 (地表水环境质量标准), I best to V, and 劣Ⅴ类 (worse
than V) as monitoring reports give it; the colours are the ones Chinese water-quality maps
use for them.
"""

from __future__ import annotations

from . import _common as c
from .spec import Choice, FieldSpec, Figure, LayerSpec, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="monitoring_points",
    zh="水体断面",
    en="Monitoring sections",
    geometry="point",
    id_field="mon_id",
    fields=(
        c.id_field("mon_id"),
        FieldSpec("name", "str", "断面名称", "Section", source_names=("断面名称", "断面", "名称", "NAME", "DMMC")),
        FieldSpec("river", "str", "所在河流", "River", source_names=("所在河流", "河流", "河流名称", "RIVER", "HLMC")),
        FieldSpec(
            "wq_class",
            "str",
            "水质类别",
            "Water quality",
            choices=(
                Choice("I", "Ⅰ类", "Class I", ("Ⅰ", "1", "1类", "I类", "一类"), "#1e88e5"),
                Choice("II", "Ⅱ类", "Class II", ("Ⅱ", "2", "2类", "II类", "二类"), "#00acc1"),
                Choice("III", "Ⅲ类", "Class III", ("Ⅲ", "3", "3类", "III类", "三类"), "#43a047"),
                Choice("IV", "Ⅳ类", "Class IV", ("Ⅳ", "4", "4类", "IV类", "四类"), "#fdd835"),
                Choice("V", "Ⅴ类", "Class V", ("Ⅴ", "5", "5类", "V类", "五类"), "#fb8c00"),
                Choice("worse_v", "劣Ⅴ类", "Worse than V", ("劣Ⅴ", "劣V类", "劣V", "劣五类", "6"), "#e53935"),
            ),
            source_names=("水质类别", "水质", "类别", "WQ", "SZLB"),
        ),
        FieldSpec(
            "sampled",
            "str",
            "监测日期",
            "Sampled",
            required=False,
            date=True,
            source_names=("监测日期", "采样日期", "日期", "DATE", "JCRQ"),
        ),
    ),
    style=Style(by="wq_class", radius=6.0, fill_opacity=0.9),
    measure="count",
    unit_zh="个",
    z=60,
    filters=("wq_class",),
    impact=(Figure("count"),),
)

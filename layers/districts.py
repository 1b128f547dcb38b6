"""Sub-districts (街道), towns and townships of Nanguan District: the statistics' units."""

from __future__ import annotations

from .spec import Choice, FieldSpec, LayerSpec, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="districts",
    zh="街道乡镇",
    en="Sub-districts",
    geometry="polygon",
    id_field="code",
    fields=(
        FieldSpec("code", "str", "区划代码", "Admin code", source_names=("区划代码", "代码", "CODE", "DM", "code9")),
        FieldSpec("name", "str", "名称", "Name", source_names=("名称", "街道", "NAME", "MC")),
        FieldSpec(
            "kind",
            "str",
            "类型",
            "Kind",
            choices=(
                Choice("街道", "街道", "Sub-district", ("subdistrict", "jiedao"), "#5c6bc0"),
                Choice("镇", "镇", "Town", ("town", "zhen"), "#8d6e63"),
                Choice("乡", "乡", "Township", ("township", "xiang"), "#7cb342"),
                Choice("区", "区", "District", ("district", "qu"), "#455a64"),
            ),
            source_names=("类型", "TYPE", "LX"),
        ),
    ),
    style=Style(by="kind", weight=1.5, fill_opacity=0.05, dash_by=()),
    measure="area",
    z=0,
    units=True,
)

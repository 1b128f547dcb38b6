"""Values and fields several layers share, declared once.

The Chinese aliases are the words municipal registers and bureau spreadsheets use.
"""

from __future__ import annotations

from .spec import Choice, FieldSpec

PLANNED = Choice("planned", "规划", "Planned", ("规划中", "拟建", "计划", "待建"), "#9e9e9e")
UNDER_CONSTRUCTION = Choice(
    "under_construction", "在建", "Under construction", ("施工中", "建设中", "正在建设"), "#ff9800"
)
COMPLETE = Choice("complete", "已建", "Complete", ("已完成", "建成", "竣工", "已竣工"), "#2e7d32")
OPEN = Choice("open", "已通车", "Open", ("通车", "已建", "建成", "已完成"), "#2e7d32")
EXISTING = Choice("existing", "现状", "Existing", ("已建", "现有", "建成", "已有"), "#2e7d32")


def id_field(name: str) -> FieldSpec:
    """The identifier field every layer has."""
    return FieldSpec(name, "str", "编号", "ID", source_names=("编号", "ID", "id", "代码", "FID_"))


def name_field(*, required: bool = True) -> FieldSpec:
    """The feature name, in Chinese as the data has it."""
    return FieldSpec(
        "name", "str", "名称", "Name", required=required, source_names=("名称", "名字", "NAME", "Name", "MC")
    )


def status_field(*choices: Choice) -> FieldSpec:
    """A status field limited to ``choices``."""
    return FieldSpec(
        "status", "str", "状态", "Status", choices=choices, source_names=("状态", "建设状态", "STATUS", "ZT")
    )


def kind_field(*choices: Choice, zh: str = "类型", en: str = "Kind") -> FieldSpec:
    """A kind field limited to ``choices``."""
    return FieldSpec(
        "kind", "str", zh, en, choices=choices, source_names=("类型", "类别", "性质", "KIND", "TYPE", "LX")
    )

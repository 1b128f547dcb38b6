"""Rivers (河流) of the district: 伊通河 and its tributary, the reaches the river chiefs watch."""

from __future__ import annotations

from . import _common as c
from .spec import Choice, Figure, LayerSpec, Style

__all__ = ["SPEC"]

SPEC = LayerSpec(
    name="rivers",
    zh="河流",
    en="Rivers",
    geometry="line",
    id_field="river_id",
    fields=(
        c.id_field("river_id"),
        c.name_field(),
        c.kind_field(
            Choice("main", "干流", "Main river", ("主河道", "干河", "河流"), "#1565c0"),
            Choice("tributary", "支流", "Tributary", ("支河", "一级支流"), "#42a5f5"),
            zh="河流等级",
            en="Order",
        ),
    ),
    style=Style(by="kind", weight=5.0, dash_by=(), label=True),
    measure="length",
    unit_zh="条",
    z=25,
    filters=("kind",),
    impact=(Figure("measure"),),
)

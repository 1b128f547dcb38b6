"""The shared layer specification type: fields, allowed values, labels and style.

Every layer module in this package declares one :class:`LayerSpec`; the behaviour
(normalising Chinese aliases, looking up labels, choosing a colour) lives here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "NO_VALUE_COLOR",
    "Choice",
    "Conflict",
    "Dtype",
    "FieldSpec",
    "Figure",
    "LayerSpec",
    "Measure",
    "NotAbove",
    "Pick",
    "Ratio",
    "Style",
]

Dtype = Literal["str", "int", "float"]

#: The colour of a feature with no value in the field it is coloured by.
NO_VALUE_COLOR = "#666666"
Measure = Literal["length", "area", "count"]


@dataclass(frozen=True)
class Choice:
    """One allowed value of a coded field.

    Parameters
    ----------
    code : str
        The ASCII code stored in the data (``"planned"``).
    zh, en : str
        Labels shown to users in Chinese and English.
    aliases : tuple of str
        Other spellings accepted on import, mostly the Chinese words municipal data uses
        (``"规划"``). Matching ignores case and surrounding white space.
    color : str
        The colour (``#rrggbb``) features with this value are drawn in, when the layer is
        styled by this field.
    """

    code: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    color: str = "#666666"

    def with_color(self, color: str) -> Choice:
        """Return the same choice drawn in another colour."""
        return Choice(self.code, self.zh, self.en, self.aliases, color)


@dataclass(frozen=True)
class FieldSpec:
    """One attribute of a layer.

    Parameters
    ----------
    name : str
        ASCII column name, at most 10 characters (the Shapefile limit).
    dtype : {"str", "int", "float"}
        Storage type.
    zh, en : str
        Column labels.
    required : bool
        Whether every feature must have a value.
    choices : tuple of Choice
        The allowed values; empty means any value of the type.
    minimum : float or None
        Smallest allowed number, for numeric fields.
    unit : str
        Unit of a numeric field (``"mm"``, ``"户"``), shown after values.
    source_names : tuple of str
        Column names other data uses for this field (``"名称"``), matched on import.
    date : bool
        A text field holding a calendar date written ``YYYY-MM-DD`` (text, so that every
        export format keeps it as written).
    """

    name: str
    dtype: Dtype
    zh: str
    en: str
    required: bool = True
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    unit: str = ""
    source_names: tuple[str, ...] = ()
    date: bool = False

    def __post_init__(self) -> None:
        if not self.name.isascii() or len(self.name) > 10:
            raise ValueError(f"field name {self.name!r} must be ASCII and at most 10 characters")
        if self.date and self.dtype != "str":
            raise ValueError(f"date field {self.name!r} must be stored as text")

    @property
    def codes(self) -> tuple[str, ...]:
        """The allowed codes, in declaration order."""
        return tuple(c.code for c in self.choices)

    def label(self, lang: str) -> str:
        """The column label in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.zh if lang == "zh" else self.en

    def choice(self, code: str) -> Choice | None:
        """The choice with this code, or None."""
        for c in self.choices:
            if c.code == code:
                return c
        return None

    def value_label(self, value: object, lang: str) -> str:
        """A value as users read it: a choice's label, or the value itself."""
        if value is None:
            return ""
        c = self.choice(str(value))
        if c is not None:
            return c.zh if lang == "zh" else c.en
        return str(value)

    def alias_map(self) -> dict[str, str]:
        """Every accepted spelling (folded to lower case) mapped to its code."""
        out: dict[str, str] = {}
        for c in self.choices:
            for spelling in (c.code, c.zh, c.en, *c.aliases):
                out[spelling.strip().lower()] = c.code
        return out


@dataclass(frozen=True)
class Style:
    """How a layer is drawn.

    Parameters
    ----------
    by : str
        The field whose value chooses the colour.
    weight : float
        Line width in CSS pixels.
    fill_opacity : float
        Opacity of polygon fills, 0 to 1.
    radius : float
        Circle radius of point features, in CSS pixels.
    dash_by : tuple of str
        Status codes drawn dashed (planned work).
    status_opacity : tuple of (str, float)
        Fill opacity by status code, so progress reads as depth of colour; empty keeps
        ``fill_opacity`` for every status.
    by_options : tuple of str
        Other coded fields the map may colour the layer by instead of ``by`` (roads: their
        condition), offered as a map style option.
    label : bool
        Whether the map writes each feature's name on it (the key areas).
    popup : bool
        Whether clicking a feature opens its details (name, attributes, the plan's
        sentence) in a popup that stays.
    line_dash : str
        Dash pattern of every line of the layer (Leaflet's ``dashArray``, CSS pixels), so
        that a layer reads apart from another drawn in similar colours; empty draws solid
        lines. Where set, ``dash_by`` statuses are drawn faint instead of dashed.
    """

    by: str
    weight: float = 3.0
    fill_opacity: float = 0.35
    radius: float = 5.0
    dash_by: tuple[str, ...] = ("planned",)
    status_opacity: tuple[tuple[str, float], ...] = ()
    by_options: tuple[str, ...] = ()
    label: bool = False
    popup: bool = False
    line_dash: str = ""


@dataclass(frozen=True)
class NotAbove:
    """A cross-field rule: the number in ``field`` may not exceed the one in ``limit``.

    ``NotAbove("resettled", "households")`` says no parcel resettles more households than
    it has. Together with the fields' ``minimum`` it gives ``0 <= resettled <= households``.
    """

    field: str
    limit: str

    def describe(self) -> str:
        """The rule as a formula, ``"resettled <= households"``."""
        return f"{self.field} <= {self.limit}"


@dataclass(frozen=True)
class Ratio:
    """A percentage of a layer's length or area, computed per district and in total.

    The part whose coded ``field`` holds one of ``codes``, over the part where ``field``
    has any value: ``Ratio("intact", "condition", ("good",), "完好率", "Intact rate")`` on
    roads is the plan's 道路完好率, km in 完好 condition ÷ km surveyed, in the statistics
    column ``roads_intact_pct``. Per district it is the ratio of the district's shares
    (a road on a shared edge counts half to each side); in total the ratio of the layer's
    totals, never a sum or mean of the districts' percentages.

    Parameters
    ----------
    name : str
        Short ASCII name; the column is ``<layer>_<name>_pct``.
    field : str
        A coded field of the layer, also one of its ``breakdown`` fields (whose per-code
        columns hold the numerator and the denominator).
    codes : tuple of str
        The codes counted in the numerator.
    zh, en : str
        Labels (``"完好率"``).
    """

    name: str
    field: str
    codes: tuple[str, ...]
    zh: str
    en: str

    def column(self, layer: str) -> str:
        """The statistics column of this ratio on ``layer``: ``roads_intact_pct``."""
        return f"{layer}_{self.name}_pct"

    def label(self, lang: str) -> str:
        """The label in ``lang``."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Figure:
    """One figure the impact analysis gives for a layer: what an area takes of it.

    Parameters
    ----------
    of : str
        ``"count"``: the features touched; ``"measure"``: the km (lines) or ha (polygons)
        inside; or one of the layer's ``sums`` (``"households"``), each touched feature
        counted by the share of its area inside.
    zh, en : str
        The figure's label; empty takes the layer's label.
    with_count : bool
        For ``"measure"``: the count of features touched is given before it
        (``1 · 15.00 ha``).
    note_zh, note_en : str
        A note beside a sum, ``{n}`` standing for the whole touched features' value
        (``"整块地块合计 {n} 户"``).
    """

    of: str
    zh: str = ""
    en: str = ""
    with_count: bool = False
    note_zh: str = ""
    note_en: str = ""

    def label(self, layer: LayerSpec, lang: str) -> str:
        """The label in ``lang``: the figure's own, else the layer's."""
        own = self.zh if lang == "zh" else self.en
        return own or layer.label(lang)

    def note(self, lang: str) -> str:
        """The note in ``lang``, with ``{n}`` still to fill; empty when there is none."""
        return self.note_zh if lang == "zh" else self.note_en


@dataclass(frozen=True)
class Pick:
    """Which features of a layer a conflict looks at: those whose coded ``field`` holds one
    of ``codes``; ``Pick()`` takes them all."""

    field: str | None = None
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conflict:
    """A plan conflict: features of the declaring layer overlapping features of ``other``.

    ``Conflict("road_through_greenbelt", "规划道路穿越现状绿地", "Planned road through
    existing greenbelt", Pick("status", ("planned",)), "greenbelt", Pick("status",
    ("existing",)), "length")`` on roads: each planned road's metres inside existing
    greenbelt.

    Parameters
    ----------
    kind : str
        Identifier of the check, unique in the catalogue (``"parcel_on_greenbelt"``).
    zh, en : str
        What the conflict is, for people.
    pick : Pick
        The declaring layer's features looked at.
    other : str
        The other layer's name.
    other_pick : Pick
        The other layer's features looked at.
    measure : {"area", "length", "count"}
        The overlap's measure: m² of two polygons, m of a line in a polygon, or 1 for a
        point (of the declaring layer) inside or on the edge of a polygon.
    color : str
        Colour of the conflict on the map.
    """

    kind: str
    zh: str
    en: str
    pick: Pick
    other: str
    other_pick: Pick
    measure: Measure
    color: str = "#d50000"

    def label(self, lang: str) -> str:
        """What the conflict is, in ``lang``."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class LayerSpec:
    """Everything the tool knows about one layer.

    Parameters
    ----------
    name : str
        Table name in a GeoPackage or PostGIS schema (``"roads"``).
    zh, en : str
        Layer labels.
    geometry : {"point", "line", "polygon"}
        Geometry family; the single and multi types of that family are accepted.
    id_field : str
        The field that identifies a feature; unique within the layer.
    fields : tuple of FieldSpec
        All attribute fields, id field included.
    style : Style
        Drawing rules.
    measure : {"length", "area", "count"}
        What statistics sum for this layer: lengths of lines, areas of polygons, or the
        number of points.
    unit_zh : str
        The Chinese counter word of one feature (``"条段"``).
    z : int
        Drawing order: layers with a lower ``z`` are drawn first (underneath). The
        catalogue lists layers in this order.
    units : bool
        Whether this layer holds the statistics' units (the sub-districts), which every
        other layer is measured by; exactly one layer of a catalogue has it.
    breakdown : tuple of str
        Coded fields whose values split the layer's measure into columns of their own
        (``roads_km_open``, ``facilities_school``).
    sums : tuple of str
        Whole-number fields summed per district, each feature's value going whole to the
        district holding its largest share (``households``).
    filters : tuple of str
        Coded fields the app and the command line offer as filters.
    rules : tuple of NotAbove
        Rules between fields that every feature must keep.
    ratios : tuple of Ratio
        Percentages of the measure given per district (the road intact rate).
    context : bool
        A context layer (the plan's key areas): drawn under the works and labelled on the
        map, validated, filtered and exported like any layer, but not measured in the
        statistics and not what the map zooms to.
    impact : tuple of Figure
        The figures the impact analysis shows for this layer, in order (roads: the km
        inside); a layer declaring none is still analysed and its touched features listed.
    conflicts : tuple of Conflict
        The plan conflicts of this layer's features with other layers' (the other layers
        are checked when the catalogue is built).
    charts : tuple of str
        What the page charts per sub-district under the statistics table: ``"measure"``
        (the km or ha) or one of the layer's ``sums`` (``"households"``).
    """

    name: str
    zh: str
    en: str
    geometry: Literal["point", "line", "polygon"]
    id_field: str
    fields: tuple[FieldSpec, ...]
    style: Style
    measure: Measure
    unit_zh: str = field(default="个")
    z: int = 0
    units: bool = False
    breakdown: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    rules: tuple[NotAbove, ...] = ()
    ratios: tuple[Ratio, ...] = ()
    context: bool = False
    impact: tuple[Figure, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    charts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = set(self.field_names)
        if self.id_field not in names:
            raise ValueError(f"layer {self.name!r}: id field {self.id_field!r} is not one of its fields")
        for coded in (*self.breakdown, *self.filters, *self.style.by_options):
            if coded not in names or not self.field(coded).choices:
                raise ValueError(f"layer {self.name!r}: {coded!r} is not a coded field of the layer")
        for number in (*self.sums, *(n for r in self.rules for n in (r.field, r.limit))):
            if number not in names or self.field(number).dtype == "str":
                raise ValueError(f"layer {self.name!r}: {number!r} is not a numeric field of the layer")
        for ratio in self.ratios:
            if ratio.field not in self.breakdown or not set(ratio.codes) <= set(self.field(ratio.field).codes):
                raise ValueError(f"layer {self.name!r}: ratio {ratio.name!r} needs a breakdown field and its codes")
            if self.measure == "count":
                raise ValueError(f"layer {self.name!r}: ratio {ratio.name!r} needs lengths or areas")
        if self.units and self.geometry != "polygon":
            raise ValueError(f"layer {self.name!r}: statistics units must be polygons")
        for figure in self.impact:
            if figure.of not in ("count", "measure", *self.sums):
                raise ValueError(f"layer {self.name!r}: impact figure {figure.of!r} is not count, measure or a sum")
            if figure.of == "measure" and self.measure == "count":
                raise ValueError(f"layer {self.name!r}: a point layer's impact figure is its count")
        for conflict in self.conflicts:
            self.check_pick(conflict.pick, conflict.kind)
        for chart in self.charts:
            if chart not in ("measure", *self.sums) or (chart == "measure" and self.measure == "count"):
                raise ValueError(f"layer {self.name!r}: chart {chart!r} is not the layer's km or ha nor a sum")

    def check_pick(self, pick: Pick, kind: str) -> None:
        """Refuse a conflict's ``pick`` unless it names a coded field of this layer and its codes."""
        if pick.field is None:
            if pick.codes:
                raise ValueError(f"conflict {kind!r}: codes {pick.codes} of no field of {self.name!r}")
            return
        if pick.field not in self.field_names or not set(pick.codes) <= set(self.field(pick.field).codes):
            raise ValueError(f"conflict {kind!r}: {pick.field!r} {pick.codes} are not codes of {self.name!r}")

    @property
    def geom_types(self) -> tuple[str, ...]:
        """The accepted shapely geometry type names."""
        return {
            "point": ("Point", "MultiPoint"),
            "line": ("LineString", "MultiLineString"),
            "polygon": ("Polygon", "MultiPolygon"),
        }[self.geometry]

    @property
    def field_names(self) -> tuple[str, ...]:
        """Column names in declaration order."""
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; KeyError when the layer has none."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"layer {self.name!r} has no field {name!r}")

    def label(self, lang: str) -> str:
        """The layer label in ``lang``."""
        return self.zh if lang == "zh" else self.en

    def color_of(self, value: object, by: str | None = None) -> str:
        """The colour of a feature whose field ``by`` (default the style's) holds ``value``.

        A feature with no value in an optional field (a road not yet surveyed) is grey.
        """
        c = self.field(by or self.style.by).choice(str(value))
        return c.color if c is not None else NO_VALUE_COLOR

    def colour_fields(self) -> tuple[str, ...]:
        """The coded fields the map may colour this layer by, the default first."""
        return (self.style.by, *self.style.by_options)

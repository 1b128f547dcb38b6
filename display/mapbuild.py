"""Building the interactive Folium map of the renewal layers: pure functions of their inputs.

The map sends each layer as compact geometry (:mod:`layers.encode`) and columnar
attributes with one dictionary per layer (labels, colours, value names in the chosen
language) taken from the catalogue; the project's script ``display/map.js`` (served by the
app from ``static/nanguan/``) draws
them on one canvas as Leaflet paths, builds tooltips, legend and layer control in the
browser, and sets every text taken from the data as text, never as HTML.

The app sends the map in two parts so that a rerun changes only what changed: a small
base map (:func:`base_map`: Leaflet, tiles, the script) whose script stays the same while
the basemap and language do, and one feature group per layer (:func:`layer_groups`)
built from cached payloads (:func:`layer_payload`). The standalone page
(:func:`map_html`) puts both into one file.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement, Template
from folium.elements import JSCSSMixin

from geo.chinacoord import convert_frame
from geo.crs import source_metric_crs
from geo.filters import Filter, apply_filter
from geo.measure import feature_measures
from layers import CATALOGUE, LAYER_NAMES, units_layer
from layers.spec import NO_VALUE_COLOR, LayerSpec

from .assets import SCRIPT, AssetUrls, inline_tags
from .budget import Choice, View, choose
from .encode import encode_geometry
from .labels import text

__all__ = [
    "MapOptions",
    "base_map",
    "budget_message",
    "build_map",
    "layer_bounds",
    "layer_dictionary",
    "layer_filter",
    "layer_groups",
    "layer_options",
    "layer_payload",
    "map_frame",
    "map_html",
    "search_fit",
    "tile_layers",
    "to_js",
    "works_bounds",
]

_DEFAULT_CENTRE = (43.80, 125.40)
_CSS = """
.ng-legend { background: rgba(255,255,255,0.93); padding: 4px 9px; border-radius: 4px;
             font: 12px/1.35 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; max-width: 240px;
             max-height: 60vh; overflow-y: auto; }
.ng-legend summary { cursor: pointer; font-weight: bold; }
.ng-legend h4 { margin: 5px 0 2px; font-size: 12px; }
.ng-legend .ng-item { display: inline-flex; align-items: center; margin-right: 8px; white-space: nowrap; }
.ng-legend svg { margin-right: 4px; }
.leaflet-tooltip.ng-tooltip { white-space: normal; max-width: 360px; }
.ng-tip b, .ng-tip td, .ng-label span { overflow-wrap: anywhere; unicode-bidi: isolate; }
.ng-tip table { border-collapse: collapse; margin-top: 3px; }
.ng-tip th { text-align: left; padding-right: 8px; font-weight: normal; color: #555; }
.ng-tip { max-width: 360px; white-space: normal; }
.ng-tip td { white-space: normal; }
.ng-message { background: #fff8e1; border: 1px solid #f9a825; border-radius: 4px; padding: 5px 9px;
              font: 12px/1.4 "Noto Sans CJK SC", sans-serif; max-width: 320px; }
.ng-label span { font: bold 12px "Noto Sans CJK SC", sans-serif; color: #283593; white-space: nowrap;
                 text-shadow: 0 0 3px #fff, 0 0 3px #fff; transform: translate(-50%, -50%); display: block; }
.ng-label.ng-context span { font-weight: normal; color: #37474f; }
"""


@dataclass(frozen=True)
class MapOptions:
    """What the map shows and how.

    Attributes
    ----------
    lang : {"zh", "en"}
        Language of layer names, tooltips and the legend.
    basemap : str
        ``none``, ``osm``, ``tianditu_vec``, ``tianditu_img`` or ``gaode``. With ``gaode``
        every overlay is shifted to GCJ-02 so that it sits on Amap's tiles.
    tianditu_key : str
        Key for the Tianditu tiles.
    visible : tuple of str
        Layers switched on; the others stay in the layer control, switched off, and their
        features are not sent.
    selected : tuple of str
        District codes drawn highlighted (the other districts are dimmed).
    highlight : tuple of (layer, id)
        Features drawn highlighted (search results); the map fits them.
    assets : AssetUrls or None
        Where the browser loads Leaflet from; None inlines it (standalone HTML).
    height_px : int
        Map height, CSS pixels.
    budget : int
        Largest number of features drawn; above it the map draws what meets ``view``.
    view : View or None
        The part of the map on screen, when known.
    colour_by : tuple of (layer, field)
        Layers coloured by another of their coded fields than the default, one the layer
        offers in ``Style.by_options`` (``("roads", "condition")``: roads by condition).
    """

    lang: str = "zh"
    basemap: str = "none"
    tianditu_key: str = ""
    visible: tuple[str, ...] = LAYER_NAMES
    selected: tuple[str, ...] = ()
    highlight: tuple[tuple[str, str], ...] = ()
    assets: AssetUrls | None = None
    height_px: int = 640
    budget: int = 20_000
    view: View | None = None
    colour_by: tuple[tuple[str, str], ...] = ()

    def colour_field(self, spec: LayerSpec) -> str:
        """The field ``spec``'s features are coloured by on this map."""
        chosen = dict(self.colour_by).get(spec.name, spec.style.by)
        return chosen if chosen in spec.colour_fields() else spec.style.by


def tile_layers(basemap: str, tianditu_key: str = "") -> list[folium.TileLayer]:
    """The tile layers of a basemap (a base and, for Tianditu, its annotation layer)."""
    if basemap == "osm":
        return [
            folium.TileLayer(
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                attr="© OpenStreetMap contributors",
                name="OpenStreetMap",
                max_zoom=19,
                control=False,
            )
        ]
    if basemap in ("tianditu_vec", "tianditu_img") and tianditu_key:
        base, notes = ("vec", "cva") if basemap == "tianditu_vec" else ("img", "cia")
        url = (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
            "&tk=" + html.escape(tianditu_key)
        )
        return [
            folium.TileLayer(
                url.replace("{layer}", layer),
                attr="© 天地图",
                name=f"天地图 {layer}",
                subdomains="01234567",
                max_zoom=18,
                overlay=layer == notes,
                control=False,
            )
            for layer in (base, notes)
        ]
    if basemap == "gaode":
        return [
            folium.TileLayer(
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                attr="© 高德地图 (GCJ-02)",
                name="高德地图",
                subdomains="1234",
                max_zoom=18,
                control=False,
            )
        ]
    return []


def layer_bounds(layers: Mapping[str, gpd.GeoDataFrame]) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of all features in lon/lat, or None when empty."""
    boxes = [g.to_crs(4326).total_bounds for g in layers.values() if len(g)]
    if not boxes:
        return None
    b = np.array(boxes)
    return [[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]]


def layer_dictionary(spec: LayerSpec, lang: str, by: str | None = None) -> dict[str, Any]:
    """Everything the browser needs to label and style one layer, once per layer.

    Field labels, units and value names in ``lang``; colours by code of the field the
    layer is coloured by (``by``, default the style's; a feature with no value in it is
    :data:`~layers.spec.NO_VALUE_COLOR`); how status is drawn (dash, depth of fill);
    whether names are written on the map (``labels``: ``"fit"`` where the feature is
    large enough on screen, ``"always"``) and whether a click opens a popup.
    """
    fields: list[dict[str, object]] = []
    for f in spec.fields:
        if f.name == spec.id_field:
            continue
        if f.choices:
            fields.append(
                {
                    "name": f.name,
                    "label": f.label(lang),
                    "kind": "code",
                    "names": [f.value_label(c, lang) for c in f.codes],
                }
            )
        elif f.dtype in ("int", "float"):
            digits = 0 if f.dtype == "int" else 1
            fields.append({"name": f.name, "label": f.label(lang), "kind": "num", "unit": f.unit, "digits": digits})
        else:
            fields.append({"name": f.name, "label": f.label(lang), "kind": "text"})
    colour = spec.field(by or spec.style.by)
    out: dict[str, Any] = {
        "label": spec.label(lang),
        "units": spec.units,
        "family": spec.geometry,
        "measure": spec.measure,
        "fields": fields,
        "by": colour.name,
        "byNames": [c.zh if lang == "zh" else c.en for c in colour.choices],
        "byColors": [c.color for c in colour.choices],
        "noValue": NO_VALUE_COLOR,
        "labels": "fit" if spec.units else ("always" if spec.style.label else ""),
        "popup": spec.style.popup,
        "style": {
            "weight": spec.style.weight,
            "fillOpacity": spec.style.fill_opacity,
            "radius": spec.style.radius,
            "dash": list(spec.style.dash_by),
            "statusOpacity": dict(spec.style.status_opacity),
            "lineDash": spec.style.line_dash,
        },
    }
    if "status" in spec.field_names:
        status = spec.field("status")
        out["statusCodes"] = list(status.codes)
        out["statusNames"] = [status.value_label(c, lang) for c in status.codes]
    return out


def _code_column(values: pd.Series, codes: Sequence[str]) -> list[int]:
    index = {c: i for i, c in enumerate(codes)}
    return [index.get(str(v), -1) if v is not None and v == v else -1 for v in values]


def _columns(gdf: pd.DataFrame, spec: LayerSpec) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {}
    for f in spec.fields:
        if f.name == spec.id_field or f.name not in gdf.columns:
            continue
        series = gdf[f.name]
        if f.choices:
            cols[f.name] = _code_column(series, f.codes)
        elif f.dtype in ("int", "float"):
            numbers = pd.to_numeric(series, errors="coerce").astype(float)
            cols[f.name] = [None if np.isnan(v) else float(v) for v in numbers]
        else:
            cols[f.name] = [None if v is None or v != v else str(v) for v in series]
    return cols


def _present(gdf: pd.DataFrame, spec: LayerSpec, field: str) -> list[int]:
    if field not in gdf.columns:
        return []
    codes = spec.field(field).codes
    seen = set(gdf[field].dropna().astype(str))
    return [i for i, c in enumerate(codes) if c in seen]


def _measures(values: np.ndarray, measure: str) -> list[float | None] | None:
    if measure == "count":
        return None
    digits = 1 if measure == "length" else 0
    return [None if np.isnan(v) else round(float(v), digits) for v in values]


def layer_filter(flt: Filter, name: str) -> Filter:
    """The part of a filter that decides one layer's features (so a layer's cache key holds no other's)."""
    return Filter(flt.districts, tuple(v for v in flt.values if v[0] == name))


def map_frame(
    layers: Mapping[str, gpd.GeoDataFrame], name: str, flt: Filter, *, gcj02: bool, metric: Any
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """One layer as the map draws it: filtered, in lon/lat (GCJ-02 for Amap), with each
    feature's length (m) or area (m²) measured on the full geometry in ``metric``, the CRS
    the statistics use. Sub-districts are never filtered: the map keeps the neighbours of a
    selected one drawn, dimmed."""
    units = units_layer().name
    if CATALOGUE[name].units:
        gdf = layers[name]
    else:
        gdf = apply_filter({n: layers[n] for n in (name, units) if n in layers}, layer_filter(flt, name))[name]
    sizes = feature_measures(gdf, CATALOGUE[name].geometry, metric).to_numpy(float)
    wgs = gdf.to_crs(4326)
    return (convert_frame(wgs, "wgs84", "gcj02") if gcj02 else wgs), sizes


def works_bounds(layers: Mapping[str, gpd.GeoDataFrame]) -> list[list[float]] | None:
    """Where the map opens: the works, not the rural township that holds few of them nor
    the context areas; all of ``layers`` when they hold no works."""
    works = {n: g for n, g in layers.items() if not (CATALOGUE[n].units or CATALOGUE[n].context)}
    return layer_bounds(works) or layer_bounds(layers)


def layer_options(options: MapOptions, name: str) -> MapOptions:
    """What one layer's payload depends on, and nothing else, so that a layer a change left
    alone is encoded once (the app caches payloads on these)."""
    return MapOptions(
        lang=options.lang,
        basemap="gaode" if options.basemap == "gaode" else "none",
        selected=options.selected if CATALOGUE[name].units else (),
        highlight=tuple(h for h in options.highlight if h[0] == name),
        colour_by=tuple(c for c in options.colour_by if c[0] == name),
    )


def layer_payload(
    name: str,
    gdf: gpd.GeoDataFrame,
    sizes: np.ndarray,
    choice: Choice | None,
    options: MapOptions,
) -> dict[str, Any]:
    """What the browser receives for one layer: compact geometry, columns, dictionary.

    Parameters
    ----------
    name : str
        Catalogue layer.
    gdf : GeoDataFrame
        The layer's features (after filters) in EPSG:4326 (or GCJ-02 for Amap).
    sizes : ndarray of float
        Each feature's length (m) or area (m²), measured on the full geometry.
    choice : Choice or None
        What to draw (see :func:`layers.budget.choose`); None: the layer is switched off
        and only its name and count are sent.
    options : MapOptions

    Returns
    -------
    dict
        JSON-ready; ``key`` identifies the drawn content, so the browser can keep a layer
        whose content did not change.
    """
    spec = CATALOGUE[name]
    payload: dict[str, Any] = {
        "name": name,
        "on": choice is not None,
        "total": len(gdf),
        "shown": 0,
        "dict": layer_dictionary(spec, options.lang, options.colour_field(spec)),
    }
    if choice is None:
        return payload
    drawn = gdf.iloc[choice.rows]
    geoms = drawn.geometry.to_numpy()
    if choice.tolerance_deg is not None:
        geoms = shapely.simplify(geoms, choice.tolerance_deg, preserve_topology=True)
    content: dict[str, Any] = {
        "geometry": encode_geometry(geoms, spec.geometry).as_dict(),
        "ids": [str(v) for v in drawn[spec.id_field]],
        "cols": _columns(drawn, spec),
        "measure": _measures(np.asarray(sizes)[choice.rows], spec.measure),
    }
    if (spec.units or spec.style.label) and len(drawn):
        content["labels"] = encode_geometry(_label_points(drawn.geometry.to_numpy()), "point").as_dict()
    key = hashlib.sha1(json.dumps(content, ensure_ascii=False).encode()).hexdigest()[:16]
    ids = content["ids"]
    by = options.colour_field(spec)
    selected = set(options.selected) if spec.units else set()
    hits = {fid for layer, fid in options.highlight if layer == name}
    payload.update(
        content,
        key=key,
        shown=len(drawn),
        present=_present(gdf, spec, by),
        missing=by not in gdf.columns or bool(gdf[by].isna().any()),
        statusPresent=_present(gdf, spec, "status") if "status" in spec.field_names else [],
        selected=[i for i, fid in enumerate(ids) if fid in selected],
        highlight=[i for i, fid in enumerate(ids) if fid in hits],
    )
    return payload


def _label_points(geoms: np.ndarray) -> np.ndarray:
    """Where a feature's name is written: inside a polygon, at the middle of a line."""
    points = shapely.point_on_surface(geoms)
    lines = np.isin(shapely.get_type_id(geoms), (1, 5))
    points[lines] = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
    return points


def budget_message(payloads: Sequence[Mapping[str, Any]], options: MapOptions) -> str:
    """The note on the map when not every feature of the layers switched on is drawn.

    ``payloads`` need only ``on``, ``shown`` and ``total``.
    """
    on = [p for p in payloads if p["on"]]
    shown, total = sum(p["shown"] for p in on), sum(p["total"] for p in on)
    if shown >= total:
        return ""
    return text("map_budget", options.lang, shown=f"{shown:,}", total=f"{total:,}", budget=f"{options.budget:,}")


_MARKS = {"{": "\x01", "}": "\x02", "%": "\x03", "#": "\x04", "<": "\x05"}
_MARK_TABLE = {ord(k): v for k, v in _MARKS.items()}


def _hide_marks(value: object) -> object:
    if isinstance(value, str):
        return value.translate(_MARK_TABLE) if any(c in value for c in _MARKS) else value
    if isinstance(value, dict):
        return {k: _hide_marks(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_marks(v) for v in value]
    return value


def to_js(value: object) -> str:
    """A JSON value safe inside a ``<script>`` element and inside a Jinja template.

    Folium renders an element's script as a template a second time, so text from the data
    must hold no ``{{``, ``{%`` or ``{#``: braces, ``%``, ``#`` and ``<`` in strings are
    written as ``\\u`` escapes, and closing braces of the structure are kept apart.
    """
    out = json.dumps(_hide_marks(value), ensure_ascii=False, separators=(",", ":"))
    for mark, hidden in _MARKS.items():
        out = out.replace(f"\\u{ord(hidden):04x}", f"\\u{ord(mark):04x}")
    while "}}" in out:
        out = out.replace("}}", "} }")
    return out


class _Setup(JSCSSMixin, MacroElement):
    """Page set-up: the map's CSS and script, Leaflet's icon path, the basemap watch."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro script(this, kwargs) %}
        {% if this.images %}L.Icon.Default.imagePath = {{ this.images|tojson }};{% endif %}
        nanguan.watchTiles({{ this._parent.get_name() }}, {{ this.words }});
        {% endmacro %}
        """
    )

    def __init__(self, options: MapOptions) -> None:
        super().__init__()
        self._name = "Setup"
        self.css = _CSS
        self.images = options.assets.images if options.assets else None
        self.words = to_js({"tiles": text("map_tiles", options.lang)})
        static = options.assets.js.rsplit("/leaflet/", 1)[0] if options.assets else ""
        self.default_js = [("nanguan_map", f"{static}/nanguan/map.js")] if options.assets else []
        self.default_css = []


class _LayerData(MacroElement):
    """One layer's payload, handed to ``nanguan.layer`` with its feature group."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        nanguan.layer({{ this._parent._parent.get_name() }}, {{ this._parent.get_name() }}, {{ this.payload }});
        {% endmacro %}
        """
    )

    def __init__(self, payload: str) -> None:
        super().__init__()
        self._name = "LayerData"
        self.payload = payload


class _Finish(MacroElement):
    """After every layer: layer control, legend, budget note, and the fit of search hits."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        nanguan.finish({{ this._parent._parent.get_name() }}, {{ this.meta }});
        {% endmacro %}
        """
    )

    def __init__(self, meta: str) -> None:
        super().__init__()
        self._name = "Finish"
        self.meta = meta


def base_map(options: MapOptions, bounds: list[list[float]] | None) -> folium.Map:
    """The map without data: Leaflet, the tiles, the project's script; fits ``bounds``."""
    m = folium.Map(location=_DEFAULT_CENTRE, zoom_start=11, tiles=None, control_scale=True, height=options.height_px)
    if options.assets is None:
        m.default_js, m.default_css = [], []
        root = m.get_root()
        assert isinstance(root, Figure)
        root.header.add_child(Element(inline_tags()), name="leaflet_inline")
        script = SCRIPT.read_text(encoding="utf-8")
        root.header.add_child(Element("{% raw %}<script>" + script + "</script>{% endraw %}"), name="nanguan")
    else:
        m.default_js = [("leaflet", options.assets.js)]
        m.default_css = [("leaflet_css", options.assets.css)]
    m.add_child(_Setup(options))
    for tiles in tile_layers(options.basemap, options.tianditu_key):
        tiles.add_to(m)
    if bounds is not None:
        fit = folium.FitBounds(bounds)
        fit.options["animate"] = False  # the first view is not a move: nothing to animate
        m.add_child(fit)
    return m


def search_fit(layers: Mapping[str, gpd.GeoDataFrame], options: MapOptions) -> dict[str, Any] | None:
    """Where a search moves the view: the bounds of its hits, with an id naming the search."""
    boxes = []
    for layer, fid in options.highlight:
        gdf = layers.get(layer)
        if gdf is not None and len(gdf):
            hits = gdf[gdf[CATALOGUE[layer].id_field].astype(str) == fid]
            if len(hits):
                boxes.append(hits.total_bounds)
    if not boxes:
        return None
    b = np.array(boxes)
    bounds = [[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]]
    return {"id": hashlib.sha1(repr(options.highlight).encode()).hexdigest()[:12], "bounds": bounds}


def layer_groups(
    payloads: Sequence[Mapping[str, Any]],
    options: MapOptions,
    *,
    fit: Any = None,
    encoded: Mapping[str, str] | None = None,
) -> list[folium.FeatureGroup]:
    """One feature group per payload, the last one finishing the map (control, legend).

    ``encoded`` may hold each payload already serialised (by layer name), so that a cached
    layer is not serialised again.
    """
    groups = []
    for p in payloads:
        group = folium.FeatureGroup(name=p["dict"]["label"], control=False)
        body = (encoded or {}).get(p["name"]) or to_js(p)
        group.add_child(_LayerData(body))
        groups.append(group)
    meta = {
        "order": [p["name"] for p in payloads],
        "words": {
            "legend": text("map_legend", options.lang),
            "loading": text("map_loading", options.lang),
            "length": text("length", options.lang),
            "area": text("area", options.lang),
            "noValue": text("no_value", options.lang),
        },
        "message": budget_message(payloads, options),
        "fit": fit,
    }
    if groups:
        groups[-1].add_child(_Finish(to_js(meta)))
    return groups


def build_map(
    layers: Mapping[str, gpd.GeoDataFrame], options: MapOptions | None = None, *, flt: Filter | None = None
) -> folium.Map:
    """The whole map of ``layers`` (catalogue layers, one CRS) as one Folium map, through
    the steps the app takes layer by layer: :func:`map_frame`, :func:`~display.budget.choose`,
    :func:`layer_payload`, :func:`layer_groups`.

    ``flt`` filters the works as in the app; sub-districts stay drawn, the chosen ones
    highlighted. Lengths and areas in the tooltips are measured in the metric CRS on the
    full geometry, before any shift to GCJ-02 or simplification, so they are the same on
    every basemap.
    """
    options = options or MapOptions()
    flt = flt or Filter()
    names = [n for n in LAYER_NAMES if n in layers]
    metric = source_metric_crs(dict(layers))
    frames = {n: map_frame(layers, n, flt, gcj02=options.basemap == "gaode", metric=metric) for n in names}
    on = {n: f for n, f in frames.items() if n in options.visible}
    frames_on, sizes_on = {n: f[0] for n, f in on.items()}, {n: f[1] for n, f in on.items()}
    chosen = choose(frames_on, sizes_on, budget=options.budget, view=options.view)
    m = base_map(options, works_bounds({n: layers[n] for n in names if n in options.visible}))
    payloads = [layer_payload(n, *frames[n], chosen.get(n), layer_options(options, n)) for n in names]
    for group in layer_groups(payloads, options, fit=search_fit({n: f[0] for n, f in on.items()}, options)):
        group.add_to(m)
    return m


def map_html(
    layers: Mapping[str, gpd.GeoDataFrame],
    options: MapOptions | None = None,
    *,
    flt: Filter | None = None,
    title: str = "",
) -> str:
    """A complete HTML page of the map that opens with no server and no internet.

    The map fills the window; the page has a title.
    """
    options = options or MapOptions()
    m = build_map(layers, replace(options, assets=None, height_px=0), flt=flt)
    page = m.get_root().render()
    head = f"<title>{html.escape(title)}</title>" if title else ""
    fill = (
        "<style>html, body {width: 100%; height: 100%; margin: 0; padding: 0;} "
        ".folium-map {height: 100vh !important;}</style>"
    )
    return page.replace("<head>", '<head>\n<meta charset="utf-8">' + head + fill, 1)

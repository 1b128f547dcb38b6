"""Building the interactive Folium map of the renewal layers: a pure function of its inputs.

The app and the standalone HTML export both call :func:`build_map`. Every value taken from
the data is HTML-escaped before it reaches a tooltip or the legend, because imported data
is not trusted and Leaflet tooltips render HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, replace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement, Template

from geo.chinacoord import convert_frame
from geo.crs import source_metric_crs
from geo.measure import feature_measures

from . import CATALOGUE, LAYER_NAMES
from .assets import AssetUrls, inline_tags
from .labels import text
from .spec import NO_VALUE_COLOR, LayerSpec

__all__ = ["MapOptions", "build_map", "layer_bounds", "map_html", "tile_layers", "tooltip_html"]

_SELECTED_COLOR = "#d32f2f"
_HIGHLIGHT_COLOR = "#00e5ff"
_DEFAULT_CENTRE = (43.80, 125.40)


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
        Layers shown at first; the others stay in the layer control, switched off.
    selected : tuple of str
        District codes drawn highlighted.
    highlight : tuple of (layer, id)
        Features drawn highlighted (search results); the map zooms to them.
    assets : AssetUrls or None
        Where the browser loads Leaflet from; None inlines it (standalone HTML).
    height_px : int
        Map height, CSS pixels.
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
            )
        ]
    return []


def _format_measure(spec: LayerSpec, value: float, lang: str) -> str:
    if spec.measure == "length":
        label = text("length", lang)
        return f"<tr><th>{label}</th><td>{value / 1000:,.3f} km</td></tr>"
    if spec.measure == "area":
        label = text("area", lang)
        return f"<tr><th>{label}</th><td>{value:,.0f} m² ({value / 10_000:,.2f} ha)</td></tr>"
    return ""


def tooltip_html(spec: LayerSpec, row: Mapping[str, object], measure: float, lang: str) -> str:
    """The tooltip of one feature: its name, labelled attributes and measure, all escaped."""
    name = html.escape(str(row.get("name") or row.get(spec.id_field) or ""))
    rows = []
    for f in spec.fields:
        if f.name == "name":
            continue
        value = row.get(f.name)
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            continue
        shown = f.value_label(value, lang) + (f" {f.unit}" if f.unit else "")
        rows.append(f"<tr><th>{html.escape(f.label(lang))}</th><td>{html.escape(shown)}</td></tr>")
    if not np.isnan(measure):
        rows.append(_format_measure(spec, measure, lang))
    return f'<div class="ng-tip"><b>{name}</b><table>{"".join(rows)}</table></div>'


def _present(value: object) -> object:
    """``value``, or None for a missing one (NaN, NA), so the GeoJSON holds ``null``."""
    return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else value


def _style(
    spec: LayerSpec, props: Mapping[str, object], *, by: str, selected: bool, highlighted: bool
) -> dict[str, object]:
    color = spec.color_of(props.get(by), by)
    style: dict[str, object] = {
        "color": color,
        "weight": spec.style.weight,
        "opacity": 0.9,
        "fillColor": color,
        "fillOpacity": spec.style.fill_opacity,
        "className": f"ng-layer ng-{spec.name}",
    }
    status = props.get("status")
    if status in spec.style.dash_by and spec.geometry != "point":
        style["dashArray"] = "8 6"
    style["fillOpacity"] = dict(spec.style.status_opacity).get(str(status), spec.style.fill_opacity)
    if selected:
        style.update(color=_SELECTED_COLOR, weight=3.5, fillOpacity=0.12)
    if highlighted:
        style.update(color=_HIGHLIGHT_COLOR, weight=spec.style.weight + 3, opacity=1.0)
    return style


def _feature_collection(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, measures: pd.Series, options: MapOptions
) -> dict[str, object]:
    """GeoJSON of a layer with only what the map needs: the id, style fields and tooltip."""
    selected = set(options.selected) if spec.units else set()
    highlighted = {fid for layer, fid in options.highlight if layer == spec.name}
    by = options.colour_field(spec)
    features = []
    for (_, row), geom, measure in zip(gdf.iterrows(), gdf.geometry, measures, strict=True):
        fid = str(row[spec.id_field])
        props = {
            "id": fid,
            "layer": spec.name,
            by: _present(row.get(by)),
            "status": _present(row.get("status")),
            "tip": tooltip_html(spec, row, float(measure), options.lang),
        }
        props["style"] = _style(spec, props, by=by, selected=fid in selected, highlighted=fid in highlighted)
        features.append({"type": "Feature", "id": fid, "properties": props, "geometry": geom.__geo_interface__})
    return {"type": "FeatureCollection", "features": features}


def layer_bounds(layers: Mapping[str, gpd.GeoDataFrame]) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of all features in lon/lat, or None when empty."""
    boxes = [g.to_crs(4326).total_bounds for g in layers.values() if len(g)]
    if not boxes:
        return None
    b = np.array(boxes)
    return [[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]]


class _Legend(MacroElement):
    """A legend that lists the layers switched on, following the layer control."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}{% endmacro %}
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: "bottomleft"});
            legend.onAdd = function() {
                var div = L.DomUtil.create("div", "ng-legend");
                div.innerHTML = {{ this.body|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
            var names = {{ this.groups|tojson }};
            function show(name, on) {
                var el = document.querySelector('.ng-legend [data-layer="' + names[name] + '"]');
                if (el) { el.style.display = on ? "" : "none"; }
            }
            {{ this._parent.get_name() }}.on("overlayadd", function(e) { show(e.name, true); });
            {{ this._parent.get_name() }}.on("overlayremove", function(e) { show(e.name, false); });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, body: str, groups: dict[str, str]) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body
        self.groups = groups


class _Setup(MacroElement):
    """Page set-up run after Leaflet loads: the default icon path and the page's CSS."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .ng-legend { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
                     font: 12px/1.35 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; max-width: 230px;
                     max-height: 70vh; overflow-y: auto; }
        .ng-legend div div { display: inline-block; margin-right: 8px; white-space: nowrap; }
        .ng-legend h4 { margin: 4px 0 2px; font-size: 12px; }
        .ng-legend i { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
                       vertical-align: -2px; border-radius: 2px; }
        .ng-legend i.ng-dash { height: 0; border-top: 2px dashed #555; border-radius: 0; vertical-align: 3px; }
        .ng-tip table { border-collapse: collapse; margin-top: 3px; }
        .ng-tip th { text-align: left; padding-right: 8px; font-weight: normal; color: #555; }
        .ng-tip { max-width: 360px; }
        .ng-tip td { white-space: normal; }
        .ng-label span { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
                         font: 12px "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #37474f;
                         text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; pointer-events: none; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        {% if this.images %}L.Icon.Default.imagePath = {{ this.images|tojson }};{% endif %}
        {% endmacro %}
        """
    )

    def __init__(self, images: str | None) -> None:
        super().__init__()
        self._name = "Setup"
        self.images = images


def _status_legend(spec: LayerSpec, statuses: set[str], lang: str, by: str) -> list[str]:
    """Legend entries for how status is drawn: depth of fill, dashed outlines (unless the
    layer is coloured by its status, field ``by``)."""
    status = spec.field("status")
    items = [
        f'<div><i style="background:rgba(90,90,90,{opacity})"></i>{html.escape(status.value_label(code, lang))}</div>'
        for code, opacity in spec.style.status_opacity
        if code in statuses
    ]
    dashed = [c for c in spec.style.dash_by if c in statuses and spec.geometry != "point" and by != "status"]
    if dashed:
        words = "、".join(status.value_label(c, lang) for c in dashed)
        items.append(f'<div><i class="ng-dash"></i>{html.escape(words)}</div>')
    return items


def _legend_body(layers: Mapping[str, gpd.GeoDataFrame], options: MapOptions) -> str:
    parts = []
    for name, gdf in layers.items():
        spec = CATALOGUE[name]
        by = spec.field(options.colour_field(spec))
        values = gdf[by.name] if by.name in gdf.columns else pd.Series([None] * len(gdf), dtype=object)
        present = set(values.dropna().astype(str))
        items = [
            f'<div><i style="background:{c.color}"></i>{html.escape(c.zh if options.lang == "zh" else c.en)}</div>'
            for c in by.choices
            if c.code in present
        ]
        if values.isna().any():
            items.append(f'<div><i style="background:{NO_VALUE_COLOR}"></i>{html.escape(text("no_value", options.lang))}</div>')
        if "status" in spec.field_names and "status" in gdf.columns:
            items += _status_legend(spec, set(gdf["status"].dropna().astype(str)), options.lang, by.name)
        hidden = "" if name in options.visible else ' style="display:none"'
        parts.append(
            f'<div data-layer="{name}"{hidden}><h4>{html.escape(spec.label(options.lang))}</h4>{"".join(items)}</div>'
        )
    return "".join(parts)


def _add_labels(group: folium.FeatureGroup, gdf: gpd.GeoDataFrame) -> None:
    """Write each feature's name on the map, in ``group`` so it toggles with the layer.

    Polygons are labelled at a point inside them, lines at their middle. The labels take
    no clicks: the feature under them does.
    """
    geoms = gdf.geometry.to_numpy()
    lines = shapely.get_type_id(geoms) == 1
    points = shapely.point_on_surface(geoms)
    points[lines] = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
    for name, point in zip(gdf["name"].astype(str), points, strict=True):
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(html=f'<span>{html.escape(name)}</span>', icon_size=(0, 0), class_name="ng-label"),
            interactive=False,
            keyboard=False,
        ).add_to(group)


def build_map(layers: Mapping[str, gpd.GeoDataFrame], options: MapOptions | None = None) -> folium.Map:
    """The map of ``layers`` (catalogue layers, any CRS), one toggle per layer.

    Lengths and areas in the tooltips are measured in the source's metric CRS (the one the
    statistics use) before any shift to GCJ-02, so they are the same on every basemap.
    Layers must share one CRS (CRSError otherwise).
    """
    options = options or MapOptions()
    metric = source_metric_crs(layers)
    # Fit the works, not the rural township that holds few of them.
    works = {
        n: g for n, g in layers.items() if not (CATALOGUE[n].units or CATALOGUE[n].context) and n in options.visible
    }
    bounds = layer_bounds(works) or layer_bounds(layers)
    m = folium.Map(
        location=_DEFAULT_CENTRE,
        zoom_start=11,
        tiles=None,
        control_scale=True,
        height=options.height_px,
    )
    if options.assets is None:
        m.default_js, m.default_css = [], []
        root = m.get_root()
        assert isinstance(root, Figure)
        root.header.add_child(Element(inline_tags()), name="leaflet_inline")
    else:
        m.default_js = [("leaflet", options.assets.js)]
        m.default_css = [("leaflet_css", options.assets.css)]
    m.add_child(_Setup(options.assets.images if options.assets else None))
    for tiles in tile_layers(options.basemap, options.tianditu_key):
        tiles.add_to(m)

    groups: dict[str, str] = {}
    highlight_bounds = []
    ordered = [n for n in LAYER_NAMES if n in layers]
    for name in ordered:
        spec = CATALOGUE[name]
        gdf = layers[name].to_crs(4326)
        measures = feature_measures(layers[name], spec.geometry, metric)
        shown = gdf if options.basemap != "gaode" else convert_frame(gdf, "wgs84", "gcj02")
        label = f"{spec.label(options.lang)} ({len(gdf)})"
        groups[label] = name
        group = folium.FeatureGroup(name=label, show=name in options.visible)
        group.add_to(m)
        if gdf.empty:
            continue
        data = _feature_collection(shown, spec, measures, options)
        geojson = folium.GeoJson(
            data,
            name=label,
            style_function=lambda feature: feature["properties"]["style"],
            highlight_function=lambda feature: {"weight": 6, "fillOpacity": 0.6},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
            popup=folium.GeoJsonPopup(fields=["tip"], labels=False) if spec.style.popup else None,
            marker=folium.CircleMarker(radius=spec.style.radius, fill=True) if spec.geometry == "point" else None,
            zoom_on_click=False,
        )
        geojson.add_to(group)
        if spec.style.label:
            _add_labels(group, shown)
        ids = {fid for layer, fid in options.highlight if layer == name}
        if ids:
            hits = shown[shown[spec.id_field].astype(str).isin(ids)]
            highlight_bounds.append(hits.total_bounds)
    folium.LayerControl(collapsed=False).add_to(m)
    m.add_child(_Legend(_legend_body({n: layers[n] for n in ordered}, options), groups))
    if highlight_bounds:
        b = np.array(highlight_bounds)
        m.fit_bounds([[b[:, 1].min(), b[:, 0].min()], [b[:, 3].max(), b[:, 2].max()]], max_zoom=16)
    elif bounds is not None:
        m.fit_bounds(bounds)
    return m


def map_html(layers: Mapping[str, gpd.GeoDataFrame], options: MapOptions | None = None, *, title: str = "") -> str:
    """A complete HTML page of the map that opens with no server and no internet."""
    options = options or MapOptions()
    m = build_map(layers, replace(options, assets=None))
    page = m.get_root().render()
    head = f"<title>{html.escape(title)}</title>" if title else ""
    return page.replace("<head>", '<head>\n<meta charset="utf-8">' + head, 1)

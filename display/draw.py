"""Drawing an area on the map, and the impact and conflict layers drawn over it.

folium's Draw plugin loads leaflet.draw from a CDN, which municipal intranets cannot
reach, so the map carries its own small drawing control (:class:`DrawControl`, written for
this project on plain Leaflet): a polygon, a line or a point placed by clicks, finished by a
double click or the ✓ button. The finished shape goes into ``window.drawnItems`` and the
map fires ``draw:created``, which is what streamlit-folium listens for: the app reads the
shape back as ``all_drawings``.

:func:`add_overlay` adds the control, the analysed area with the features it touches, and
the conflicts layer to a map built by :func:`layers.mapbuild.build_map`. Every value from
the data is HTML-escaped before it reaches a tooltip.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement, Template

from geo.chinacoord import convert_frame
from geo.conflicts import RULES, rule_for
from geo.impact import SUMS, UNITS, Impact, breakdown_field
from layers import CATALOGUE

from .labels import text
from .safe import short

__all__ = [
    "IMPACT_DECIMALS",
    "DrawControl",
    "ImpactFigure",
    "Overlay",
    "add_overlay",
    "conflict_table",
    "drawn_area",
    "impact_figures",
    "impact_table",
]

AREA_COLOR = "#ff3d00"
TOUCHED_COLOR = "#00e5ff"


class DrawControl(MacroElement):
    """Buttons to draw a polygon, a line or a point; the result is reported to streamlit-folium."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .ng-draw a { font: bold 16px/30px sans-serif; text-align: center; cursor: pointer; }
        .ng-draw a.ng-on { background: #ffe0d6; color: #bf360c; }
        .leaflet-container.ng-drawing, .ng-drawing .leaflet-grab { cursor: crosshair; }
        .ng-drawing .leaflet-interactive, .ng-drawing .leaflet-overlay-pane canvas { pointer-events: none !important; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function(map) {
            var drawn = L.featureGroup().addTo(map);
            // streamlit-folium reports window.drawnItems.toGeoJSON() as "all_drawings".
            window.drawnItems = drawn;
            var words = {{ this.words|tojson }};
            var container = map.getContainer();
            var mode = null, points = [], sketch = null, buttons = {};
            var style = {color: "{{ this.color }}", weight: 3, fillOpacity: 0.1, interactive: false};
            var bar = L.control({position: "topleft"});
            bar.onAdd = function() {
                var div = L.DomUtil.create("div", "leaflet-bar ng-draw");
                [["polygon", "\u25b1"], ["line", "\u2571"], ["point", "\u2022"], ["finish", "\u2713"],
                 ["cancel", "\u2715"]].forEach(function(b) {
                    var a = L.DomUtil.create("a", "ng-draw-" + b[0], div);
                    a.href = "#";
                    a.title = words[b[0]];
                    a.setAttribute("role", "button");
                    a.setAttribute("aria-label", words[b[0]]);
                    a.textContent = b[1];
                    L.DomEvent.on(a, "click", function(e) { L.DomEvent.stop(e); press(b[0]); });
                    buttons[b[0]] = a;
                });
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            bar.addTo(map);
            function press(name) {
                if (name === "finish") { finish(); } else if (name === "cancel") { stop(); } else { start(name); }
            }
            function start(name) {
                stop();
                mode = name;
                L.DomUtil.addClass(container, "ng-drawing");
                L.DomUtil.addClass(buttons[name], "ng-on");
                map.doubleClickZoom.disable();
            }
            function stop() {
                if (sketch) { map.removeLayer(sketch); sketch = null; }
                if (mode) { L.DomUtil.removeClass(buttons[mode], "ng-on"); }
                mode = null;
                points = [];
                L.DomUtil.removeClass(container, "ng-drawing");
                map.doubleClickZoom.enable();
            }
            function redraw() {
                if (sketch) { map.removeLayer(sketch); }
                var dashed = L.extend({}, style, {dashArray: "5 5"});
                sketch = (mode === "polygon" && points.length > 2 ? L.polygon(points, dashed)
                                                                    : L.polyline(points, dashed)).addTo(map);
            }
            // A double click also places its point twice: drop points within 3 pixels of the last.
            function distinct(pts) {
                return pts.filter(function(p, i) {
                    return i === 0 || map.latLngToContainerPoint(p).distanceTo(
                        map.latLngToContainerPoint(pts[i - 1])) > 3;
                });
            }
            function finish() {
                var pts = distinct(points), type = mode, layer = null;
                if (type === "polygon" && pts.length >= 3) { layer = L.polygon(pts, style); }
                if (type === "line" && pts.length >= 2) { layer = L.polyline(pts, style); }
                if (type === "point" && pts.length >= 1) { layer = L.circleMarker(pts[0], style); }
                stop();
                if (!layer) { return; }
                drawn.clearLayers();
                drawn.addLayer(layer);
                map.fire("draw:created", {layer: layer, layerType: type});
            }
            map.on("click", function(e) {
                if (!mode) { return; }
                points.push(e.latlng);
                if (mode === "point") { finish(); } else { redraw(); }
            });
            map.on("dblclick", function() { if (mode) { finish(); } });
            L.DomEvent.on(document, "keydown", function(e) { if (e.key === "Escape") { stop(); } });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, lang: str) -> None:
        super().__init__()
        self._name = "DrawControl"
        self.color = AREA_COLOR
        self.words = {key: text(f"draw_{key}", lang) for key in ("polygon", "line", "point", "finish", "cancel")}


_SHOWN_UNITS = {"m": ("km", 1000.0), "m2": ("ha", 10_000.0), "count": ("", 1.0)}


def _sum_label(column: str, lang: str) -> str:
    spec = next(spec for spec in CATALOGUE.values() if column in spec.sums)
    return spec.field(column).label(lang)


def impact_table(features: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The touched features as people read them: labels in ``lang``, km and ha, share in %."""
    rows = []
    for r in features.itertuples():
        spec = CATALOGUE[r.layer]
        unit, div = _SHOWN_UNITS[r.unit]
        category = spec.field(breakdown_field(spec)).value_label(r.category, lang)
        rows.append(
            {
                text("col_layer", lang): spec.label(lang),
                text("col_id", lang): r.id,
                text("col_name", lang): r.name,
                text("col_class", lang): category,
                text("col_inside", lang): r.inside / div,
                text("col_whole", lang): r.whole / div,
                text("col_unit", lang): unit,
                text("col_share", lang): 100.0 * r.share,
                **{_sum_label(column, lang): getattr(r, column) for column in SUMS},
            }
        )
    return pd.DataFrame(rows)


#: Decimals an impact figure shows: km to the metre, ha (and the area itself) to 100 m².
IMPACT_DECIMALS: dict[str, int] = {"km": 3, "ha": 2}


@dataclass(frozen=True)
class ImpactFigure:
    """One figure of the impact panel: its label, its value with the unit, and a note or None."""

    label: str
    value: str
    note: str | None = None


def impact_figures(result: Impact, lang: str) -> list[ImpactFigure]:
    """The figures of an impact as people read them, in ``lang``: the area's size, then each
    figure the catalogue's layers declare (:class:`layers.Figure`), in catalogue order.

    Counts are whole with thousands separators, km to 3 decimals, ha to 2
    (:data:`IMPACT_DECIMALS`); a sum (households) counts each feature by its area share,
    its note gives the whole features' value. The values are those of
    :meth:`geo.impact.Impact.summary`, the command line's.
    """
    s = {key: value for key, value in result.summary().items() if isinstance(value, int | float)}
    ha = IMPACT_DECIMALS["ha"]
    out = [ImpactFigure(text("impact_area_ha", lang), f"{float(s['area_ha']):,.{ha}f} ha")]
    for spec in CATALOGUE.values():
        for declared in spec.impact:
            count = int(s[f"{spec.name}_count"])
            note = None
            if declared.of == "count":
                value = f"{count:,}"
            elif declared.of == "measure":
                unit = UNITS[spec.measure][0]
                amount = f"{float(s[f'{spec.name}_{unit}']):,.{IMPACT_DECIMALS[unit]}f} {unit}"
                value = f"{count:,} · {amount}" if declared.with_count else amount
            else:
                value = f"{int(s[declared.of]):,}"
                note = declared.note(lang).format(n=s[f"{declared.of}_whole"]) or None
            out.append(ImpactFigure(declared.label(spec, lang), value, note))
    return out


def conflict_table(found: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The conflicts as people read them: what each is, both features and the overlap."""
    units = {"m2": "m²", "m": "m", "count": text("unit_count", lang)}
    return pd.DataFrame(
        {
            text("col_conflict", lang): [rule_for(k, RULES).label(lang) for k in found["kind"]],
            text("col_layer_a", lang): [CATALOGUE[n].label(lang) for n in found["layer_a"]],
            text("col_id_a", lang): found["id_a"].to_numpy(),
            text("col_layer_b", lang): [CATALOGUE[n].label(lang) for n in found["layer_b"]],
            text("col_id_b", lang): found["id_b"].to_numpy(),
            text("overlap", lang): found["overlap"].round(1).to_numpy(),
            text("col_unit", lang): [units[u] for u in found["unit"]],
        }
    )


def drawn_area(drawings: object) -> str | None:
    """The last shape of streamlit-folium's ``all_drawings`` as GeoJSON text, or None."""
    if not isinstance(drawings, list) or not drawings or not isinstance(drawings[-1], dict):
        return None
    return json.dumps(drawings[-1].get("geometry"))


@dataclass(frozen=True)
class Overlay:
    """What the map shows over the layers for impact analysis.

    Attributes
    ----------
    lang : {"zh", "en"}
        Language of layer names and tooltips.
    gcj02 : bool
        Whether the basemap is in GCJ-02 (Amap), so overlays are shifted to sit on it.
    impact : Impact or None
        The analysed area and what it touches.
    touched : dict of str to GeoDataFrame
        The touched features by layer, to highlight.
    conflicts : GeoDataFrame or None
        From :func:`geo.conflicts.find_conflicts`.
    show_conflicts : bool
        Whether the conflicts layer is switched on at first.
    focus : tuple of float or None
        ``(west, south, east, north)`` in lon/lat to zoom to (a chosen conflict).
    """

    lang: str = "zh"
    gcj02: bool = False
    impact: Impact | None = None
    touched: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    conflicts: gpd.GeoDataFrame | None = None
    show_conflicts: bool = False
    focus: tuple[float, float, float, float] | None = None


def _shown(gdf: gpd.GeoDataFrame, gcj02: bool) -> gpd.GeoDataFrame:
    out = gdf.to_crs(4326)
    return convert_frame(out, "wgs84", "gcj02") if gcj02 else out


def _tip(title: str, rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f'<div class="ng-tip"><b>{html.escape(title)}</b><table>{cells}</table></div>'


def _features(shown: gpd.GeoDataFrame, tips: list[str], styles: list[dict[str, object]]) -> dict[str, object]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"tip": tip, "style": style}, "geometry": geom.__geo_interface__}
            for geom, tip, style in zip(shown.geometry, tips, styles, strict=True)
        ],
    }


def _geojson(data: dict[str, object], *, radius: float) -> folium.GeoJson:
    return folium.GeoJson(
        data,
        style_function=lambda feature: feature["properties"]["style"],
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        marker=folium.CircleMarker(radius=radius, fill=True),
        zoom_on_click=False,
    )


def _impact_group(overlay: Overlay) -> folium.FeatureGroup | None:
    result = overlay.impact
    if result is None:
        return None
    group = folium.FeatureGroup(name=text("impact_layer", overlay.lang), show=True)
    area = _shown(gpd.GeoDataFrame(geometry=[result.area], crs=result.crs), overlay.gcj02)
    outline = {"color": AREA_COLOR, "weight": 3, "dashArray": "8 5", "fillOpacity": 0.08, "className": "ng-area"}
    # Not interactive, so that clicks and tooltips reach the features under the area.
    folium.GeoJson(
        area.geometry.iloc[0].__geo_interface__, style_function=lambda _f: outline, interactive=False
    ).add_to(group)
    style = {"color": TOUCHED_COLOR, "weight": 5, "opacity": 1.0, "fillOpacity": 0.25, "className": "ng-touched"}
    for name, gdf in overlay.touched.items():
        if gdf.empty:
            continue
        spec = CATALOGUE[name]
        shown = _shown(gdf, overlay.gcj02)
        # a layer need not name its features: its ids stand in for the names
        names = shown["name"] if "name" in shown.columns else shown[spec.id_field]
        tips = [
            _tip(short(str(label), 120), [(spec.label(overlay.lang), short(str(fid), 120))])
            for fid, label in zip(shown[spec.id_field], names, strict=True)
        ]
        _geojson(_features(shown, tips, [style] * len(shown)), radius=7).add_to(group)
    return group


def _conflict_group(overlay: Overlay) -> folium.FeatureGroup | None:
    found = overlay.conflicts
    if found is None:
        return None
    lang = overlay.lang
    group = folium.FeatureGroup(name=f"{text('conflicts_layer', lang)} ({len(found)})", show=overlay.show_conflicts)
    if found.empty:
        return group
    shown = _shown(found, overlay.gcj02)
    units = {"m2": "m²", "m": "m"}
    tips, styles = [], []
    for row in shown.itertuples():
        rule = rule_for(row.kind, RULES)
        amount = f"{row.overlap:,.1f} {units[row.unit]}" if row.unit in units else "—"
        rows = [
            (CATALOGUE[row.layer_a].label(lang), str(row.id_a)),
            (CATALOGUE[row.layer_b].label(lang), str(row.id_b)),
            (text("overlap", lang), amount),
        ]
        tips.append(_tip(rule.label(lang), rows))
        styles.append(
            {"color": rule.color, "fillColor": rule.color, "weight": 5, "fillOpacity": 0.6, "className": "ng-conflict"}
        )
    _geojson(_features(shown, tips, styles), radius=8).add_to(group)
    return group


class _InLayerControl(MacroElement):
    """Lists a folium group in a small layer control of its own, beside the map's."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map, group, label) {
            if (!map._ngExtraControl) {
                map._ngExtraControl = L.control.layers(null, {}, {collapsed: false}).addTo(map);
            }
            map._ngExtraControl.addOverlay(group, label);
        })({{ this.map_name }}, {{ this.group_name }}, {{ this.label|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, m: folium.Map, group: folium.FeatureGroup, label: str) -> None:
        super().__init__()
        self._name = "InLayerControl"
        self.map_name, self.group_name, self.label = m.get_name(), group.get_name(), label


def add_overlay(m: folium.Map, overlay: Overlay) -> folium.Map:
    """``m`` with the drawing control, the analysed area, touched features and conflicts.

    Layers added here join the map's layer control, which lists the map's layers when it
    is rendered and is moved after them. The map zooms to ``overlay.focus``, else to the
    analysed area.
    """
    m.add_child(DrawControl(overlay.lang))
    for group in (_conflict_group(overlay), _impact_group(overlay)):
        if group is not None:
            group.add_to(m)
            m.add_child(_InLayerControl(m, group, group.layer_name))
    # The layer control's script names every layer, so it must run after theirs.
    for key in [k for k, child in m._children.items() if isinstance(child, folium.LayerControl)]:
        m._children.move_to_end(key)
    bounds = overlay.focus
    if bounds is None and overlay.impact is not None and overlay.impact.touches_data:
        area = _shown(gpd.GeoDataFrame(geometry=[overlay.impact.area], crs=overlay.impact.crs), overlay.gcj02)
        bounds = tuple(area.total_bounds)
    if bounds is not None:
        west, south, east, north = bounds
        m.fit_bounds([[south, west], [north, east]], max_zoom=16)
    return m

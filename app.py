"""南关城市更新一张图 — the Streamlit app: a thin shell over ``geo/`` and ``layers/``.

Run with ``streamlit run app.py``. Widgets, calls into the core, rendering; nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError
from streamlit_folium import st_folium

from geo.auth import User, user_from_header, verify_password
from geo.chinacoord import PSEUDO_CRS, convert_frame
from geo.crs import source_metric_crs
from geo.edits import edit_features
from geo.errors import RenewalError
from geo.export import EXPORT_CRS, EXPORT_ENCODINGS, EXPORT_FORMATS, csv_bytes, export_name, layers_bytes
from geo.filters import Filter, apply_filter, attribute_filter, find_features
from geo.history import read_history
from geo.importer import import_to_copy
from geo.io import check_gpkg_path, dataset_info, load_layers
from geo.measure import feature_measures
from geo.progress import load_targets, plan_progress
from geo.settings import BASEMAPS, Settings, resolve_source
from geo.stats import OUTSIDE, TOTAL, district_stats, select_districts
from layers import CATALOGUE, LAYER_NAMES
from layers.assets import AssetUrls, install_static
from layers.labels import BASEMAP_LABELS, FORMAT_LABELS, labelled_table, progress_cards, text
from layers.budget import Choice, View, choose
from layers.mapbuild import MapOptions, base_map, layer_bounds, layer_groups, layer_payload, search_fit, to_js

log = logging.getLogger("nanguan.app")
SETTINGS = Settings.from_env()
STATIC = Path(__file__).resolve().parent / "static"
#: (layer, field) pairs offered as filters, as the catalogue declares them.
FILTERS = tuple((spec.name, field) for spec in CATALOGUE.values() for field in spec.filters)


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose."""

    lang: str
    source: str
    basemap: str
    visible: tuple[str, ...]
    flt: Filter
    query: str


@st.cache_resource
def leaflet_assets() -> AssetUrls:
    return install_static(STATIC)


def stamp(source: str) -> tuple[str, int, int]:
    """A cache key that changes when the file does (an import replaces it)."""
    info = Path(source).stat() if Path(source).exists() else None
    return (source, info.st_mtime_ns if info else 0, info.st_size if info else 0)


@st.cache_resource(show_spinner=False, max_entries=8)
def _layers(key: tuple[str, int, int]) -> dict[str, gpd.GeoDataFrame]:
    # One shared, read-only copy: at city scale, unpickling a copy on every rerun costs seconds.
    return load_layers(key[0])


def layers_of(source: str) -> dict[str, gpd.GeoDataFrame]:
    return _layers(stamp(source))


@st.cache_data(show_spinner=False, max_entries=32)
def stats_of(key: tuple[str, int, int], flt: Filter) -> pd.DataFrame:
    layers = _layers(key)
    metric = source_metric_crs(layers)
    table = district_stats(attribute_filter(layers, flt), crs=metric, tolerance_m2=SETTINGS.overlap_tolerance_m2)
    return select_districts(table, flt.districts)


@st.cache_data(show_spinner=False, max_entries=8)
def progress_of(key: tuple[str, int, int], targets: str) -> pd.DataFrame:
    return plan_progress(_layers(key), load_targets(targets))


@st.cache_data(show_spinner=False, max_entries=8)
def history_of(key: tuple[str, int, int]) -> pd.DataFrame:
    return read_history(key[0])


@st.cache_data(show_spinner=False, max_entries=8)
def progress_by_month(key: tuple[str, int, int], targets: str) -> pd.DataFrame:
    """Each target's done figure at the end of every month since the first recorded change."""
    history, layers, plan = read_history(key[0]), _layers(key), load_targets(targets)
    first = dt.date.fromisoformat(str(history["date"].min()))
    ends = [*pd.date_range(first, dt.date.today(), freq="ME").date, dt.date.today()]
    rows = {day: plan_progress(layers, plan, as_of=day, history=history)["done"] for day in ends}
    return pd.DataFrame(rows).T


@st.cache_data(show_spinner=False, max_entries=16)
def shown_of(key: tuple[str, int, int], flt: Filter) -> dict[str, gpd.GeoDataFrame]:
    return apply_filter(_layers(key), flt)


@st.cache_data(show_spinner=False, max_entries=8)
def schematic_of(key: tuple[str, int, int]) -> bool:
    return dataset_info(key[0]).get("schematic") == "true"


@st.cache_data(show_spinner=False, max_entries=64)
def download_of(key: tuple[str, int, int], flt: Filter, names: tuple[str, ...], fmt: str, crs: str, enc: str) -> bytes:
    shown = shown_of(key, flt)
    metric = source_metric_crs(_layers(key))
    return layers_bytes({n: shown[n] for n in names if n in shown}, fmt, crs=crs, encoding=enc, metric=metric)


def _on_import() -> None:
    """Import the uploaded file into this session's working copy of the source."""
    state = st.session_state
    upload, layer = state.get("upload"), state["import_as"]
    if upload is None:
        return
    folder = Path(state.setdefault("workdir", tempfile.mkdtemp(prefix="nanguan-session-")))
    src = folder / "uploads" / Path(upload.name).name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(upload.getvalue())
    try:
        if layer == "source":
            layers_of(str(check_gpkg_path(src)))
            state["source"], state["import_msg"] = str(src), ("success", src.name)
            return
        choice = {k: None if state[k] == "auto" else state[k] for k in ("import_crs", "import_enc")}
        copy = folder / "working.gpkg"
        result = import_to_copy(
            src,
            layer,
            base=resolve_source(state.get("source", SETTINGS.source)),
            copy=copy,
            from_crs=choice["import_crs"],
            encoding=choice["import_enc"],
            fix=state.get("import_fix", False),
            max_unzipped_mb=SETTINGS.max_unzipped_mb,
        )
        state["source"] = str(copy)
        state["import_msg"] = ("success", f"{layer} {len(result.gdf)} {' '.join(result.repaired)}".strip())
    except RenewalError as exc:
        state["import_msg"] = ("error", str(exc))


def _on_map_change() -> None:
    """What the planner did on the map: moved it, switched a layer, clicked a district.

    The view is kept for the next time the map is mounted afresh; a layer switched in the
    map's own control switches the sidebar toggle too (one state); a click on a district
    selects it (the tables follow). Each is applied once, when it is new.
    """
    state = st.session_state
    value = state.get("map") or {}
    centre, zoom, bounds = value.get("center"), value.get("zoom"), value.get("bounds")
    if centre and zoom is not None:
        state["map_view"] = {"center": [centre["lat"], centre["lng"]], "zoom": int(zoom), "bounds": bounds}
    for entry in value.get("selected_layers") or []:
        if not isinstance(entry, dict) or "seq" not in entry:
            continue
        mark = [entry.get("token"), entry["seq"]]
        if entry["seq"] and state.get("map_toggle") != mark:
            state["map_toggle"] = mark
            for name, on in (entry.get("on") or {}).items():
                if name in CATALOGUE:
                    state[f"show_{name}"] = bool(on)
    click = value.get("last_object_clicked")
    if click and click != state.get("map_click"):
        state["map_click"] = click
        props = (value.get("last_active_drawing") or {}).get("properties") or {}
        if props.get("layer") == "districts":
            state["districts"] = [props["id"]]


def render_sidebar() -> Selection:
    sb = st.sidebar
    languages = {"中文": "zh", "English": "en"}
    choice = sb.radio(
        "语言 / Language",
        list(languages),
        key="lang_choice",
        horizontal=True,
        index=list(languages.values()).index(SETTINGS.lang),
    )
    lang = languages[choice]
    source = sb.text_input(text("source", lang), value=SETTINGS.source, key="source", help=text("source_help", lang))
    source = str(resolve_source(source))
    options = ["none"] if SETTINGS.offline else list(BASEMAPS)
    basemap = sb.selectbox(
        text("basemap", lang),
        options,
        key="basemap",
        index=options.index(SETTINGS.basemap) if SETTINGS.basemap in options else 0,
        format_func=lambda b: BASEMAP_LABELS[b][0 if lang == "zh" else 1],
    )
    if SETTINGS.offline:
        sb.caption(text("offline", lang))
    if basemap.startswith("tianditu") and not SETTINGS.tianditu_key:
        sb.warning(text("basemap_disabled", lang))
        basemap = "none"
    sb.subheader(text("layers", lang))
    for n in LAYER_NAMES:  # the map's layer control sets these too
        st.session_state.setdefault(f"show_{n}", True)
    visible = tuple(n for n in LAYER_NAMES if sb.checkbox(CATALOGUE[n].label(lang), key=f"show_{n}"))
    box = sb.expander(text("filters", lang), expanded=False)
    try:
        districts = layers_of(source).get("districts")
    except RenewalError:
        districts = None
    names = {} if districts is None else dict(zip(districts["code"], districts["name"], strict=True))
    chosen = box.multiselect(
        text("districts", lang),
        list(names),
        key="districts",
        format_func=lambda code: names[code],
        placeholder=text("all_districts", lang),
    )
    values = []
    for layer, field in FILTERS:
        spec, f = CATALOGUE[layer], CATALOGUE[layer].field(field)
        picked = box.multiselect(
            f"{spec.label(lang)} · {f.label(lang)}",
            list(f.codes),
            default=list(f.codes),
            key=f"f_{layer}_{field}",
            format_func=lambda c, f=f: f.value_label(c, lang),
        )
        values.append((layer, field, tuple(picked)))
    query = sb.text_input(text("search", lang), key="query", placeholder=text("search_hint", lang))
    render_import(sb.expander(text("import", lang)), lang)
    return Selection(lang, source, basemap, visible, Filter(tuple(chosen), tuple(values)), query.strip())


def render_import(box: st.delta_generator.DeltaGenerator, lang: str) -> None:
    box.file_uploader(text("import_file", lang), type=["geojson", "json", "gpkg", "zip", "kml", "csv"], key="upload")
    box.selectbox(
        text("import_as", lang),
        ["source", *LAYER_NAMES],
        key="import_as",
        format_func=lambda n: text("import_source", lang) if n == "source" else CATALOGUE[n].label(lang),
    )
    box.selectbox(
        text("import_crs", lang),
        ["auto", *EXPORT_CRS, *PSEUDO_CRS],
        key="import_crs",
        format_func=lambda c: text("auto", lang) if c == "auto" else c,
    )
    box.selectbox(
        text("import_enc", lang),
        ["auto", "UTF-8", "GBK", "GB18030"],
        key="import_enc",
        format_func=lambda c: text("auto", lang) if c == "auto" else c,
    )
    box.checkbox(text("import_fix", lang), key="import_fix")
    box.button(text("import_go", lang), key="do_import", on_click=_on_import)
    kind, message = st.session_state.pop("import_msg", (None, ""))
    if kind == "success":
        box.success(text("import_done", lang, what=message))
    elif kind == "error":
        box.error(message)


def _layer_filter(flt: Filter, name: str) -> Filter:
    """The part of a filter that decides one layer's features."""
    return Filter(flt.districts, tuple(v for v in flt.values if v[0] == name))


@st.cache_resource(show_spinner=False, max_entries=64)
def map_layer_of(
    key: tuple[str, int, int], flt: Filter, name: str, gcj02: bool
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """One layer as the map draws it: filtered, in lon/lat (GCJ-02 for Amap), with each
    feature's length or area measured in the metric CRS. Sub-districts are never filtered:
    the map keeps the neighbours of a selected one drawn. Shared and read-only (its spatial
    index is built once)."""
    layers = _layers(key)
    gdf = layers[name] if name == "districts" else apply_filter({n: layers[n] for n in (name, "districts") if n in layers}, flt)[name]
    sizes = feature_measures(gdf, CATALOGUE[name].geometry, source_metric_crs(layers)).to_numpy(float)
    wgs = gdf.to_crs(4326)
    return (convert_frame(wgs, "wgs84", "gcj02") if gcj02 else wgs), sizes


@st.cache_data(show_spinner=False, max_entries=128)
def map_payload_of(
    key: tuple[str, int, int],
    flt: Filter,
    name: str,
    options: MapOptions,
    rows: np.ndarray | None,
    tolerance: float | None,
) -> tuple[dict[str, object], str]:
    """One layer's payload, serialised once: a rerun that leaves a layer unchanged reuses it."""
    gdf, sizes = map_layer_of(key, flt, name, options.basemap == "gaode")
    payload = layer_payload(name, gdf, sizes, None if rows is None else Choice(rows, tolerance), options)
    summary = {k: payload[k] for k in ("name", "on", "total", "shown")} | {"dict": {"label": payload["dict"]["label"]}}
    return summary, to_js(payload)


@st.cache_data(show_spinner=False, max_entries=8)
def source_bounds(key: tuple[str, int, int]) -> list[list[float]] | None:
    layers = _layers(key)
    return layer_bounds({n: g for n, g in layers.items() if n != "districts"}) or layer_bounds(layers)


def _view() -> View | None:
    """The view the map last reported, grown to a grid so that small pans change nothing."""
    view = st.session_state.get("map_view") or {}
    b = view.get("bounds") or {}
    try:
        sw, ne = b["_southWest"], b["_northEast"]
        return View(sw["lat"], sw["lng"], ne["lat"], ne["lng"], int(view["zoom"])).snapped()
    except (KeyError, TypeError, ValueError):
        return None


def render_map(sel: Selection) -> None:
    key = stamp(sel.source)
    hits = find_features(shown_of(key, sel.flt), sel.query) if sel.query else []
    if sel.query:
        (st.success if hits else st.warning)(
            text("search_found", sel.lang, n=len(hits)) if hits else text("search_none", sel.lang, q=sel.query)
        )
    options = MapOptions(
        lang=sel.lang,
        basemap=sel.basemap,
        tianditu_key=SETTINGS.tianditu_key,
        visible=sel.visible,
        selected=sel.flt.districts,
        highlight=tuple((h.layer, h.id) for h in hits),
        assets=leaflet_assets(),
        budget=SETTINGS.map_features,
    )
    names = [n for n in LAYER_NAMES if n in _layers(key)]
    flts = {n: _layer_filter(sel.flt, n) for n in names}
    frames = {n: map_layer_of(key, flts[n], n, sel.basemap == "gaode") for n in names if n in sel.visible}
    total = sum(len(f[0]) for f in frames.values())
    view = _view() if total > options.budget else None
    counts = {n: len(g) for n, g in _layers(key).items()}
    chosen = choose(
        {n: f[0] for n, f in frames.items()},
        {n: f[1] for n, f in frames.items()},
        budget=options.budget,
        view=view,
        counts=counts,
    )
    summaries, encoded = [], {}
    for name in names:
        # what a layer's payload depends on, and nothing else, so unchanged layers are cache hits
        own = MapOptions(
            lang=options.lang,
            basemap="gaode" if options.basemap == "gaode" else "none",
            selected=options.selected if name == "districts" else (),
            highlight=tuple(h for h in options.highlight if h[0] == name),
        )
        pick = chosen.get(name)
        summary, body = map_payload_of(
            key, flts[name], name, own, None if pick is None else pick.rows, None if pick is None else pick.tolerance_deg
        )
        summaries.append(summary)
        encoded[name] = body
    m = base_map(options, source_bounds(key))
    groups = layer_groups(
        summaries, options, fit=search_fit({n: f[0] for n, f in frames.items()}, options), encoded=encoded
    )
    # A map mounted afresh (new basemap, language or source) opens where the planner was.
    mount = json.dumps([sel.basemap, sel.lang, key])
    restore = st.session_state.get("map_mount") != mount
    st.session_state["map_mount"] = mount
    last = st.session_state.get("map_view") if restore else None
    st_folium(
        m,
        key="map",
        height=options.height_px,
        use_container_width=True,
        returned_objects=["last_active_drawing", "last_object_clicked", "selected_layers", "center", "zoom", "bounds"],
        center=tuple(last["center"]) if last else None,
        zoom=last["zoom"] if last else None,
        feature_group_to_add=groups,
        on_change=_on_map_change,
    )


def render_stats(sel: Selection) -> pd.DataFrame:
    st.subheader(text("stats", sel.lang))
    table = stats_of(stamp(sel.source), sel.flt)
    if sel.flt.districts:
        names = "、".join(table["district_name"].iloc[:-1])
        st.caption(text("selected", sel.lang, names=names))
    st.dataframe(labelled_table(table, sel.lang), hide_index=True, key="stats_table", height=36 * (len(table) + 1) + 2)
    body = table[~table.index.isin([OUTSIDE, TOTAL])].set_index("district_name")
    left, right = st.columns(2)
    left.caption(text("chart_roads", sel.lang))
    left.bar_chart(body["roads_km"], horizontal=True, sort=False)
    right.caption(text("chart_households", sel.lang))
    right.bar_chart(body["households"], horizontal=True, sort=False)
    return table


def render_progress(sel: Selection) -> None:
    st.subheader(text("progress", sel.lang))
    frame = progress_of(stamp(sel.source), str(SETTINGS.targets))
    columns = st.columns(5)
    for i, card in enumerate(progress_cards(frame, sel.lang)):
        columns[i % 5].metric(
            card.label,
            card.value,
            card.delta,
            delta_color="normal" if card.met else "off",
            delta_arrow="off",
            delta_description=card.note,
        )


def render_export(sel: Selection, table: pd.DataFrame) -> None:
    st.subheader(text("export", sel.lang))
    fmt_col, crs_col, enc_col = st.columns(3)
    fmt = fmt_col.selectbox(
        text("export_format", sel.lang), EXPORT_FORMATS, key="ex_fmt", format_func=lambda f: FORMAT_LABELS[f]
    )
    crs = crs_col.selectbox(text("export_crs", sel.lang), EXPORT_CRS, key="ex_crs", disabled=fmt in ("csv", "xlsx"))
    enc = enc_col.selectbox(text("export_enc", sel.lang), EXPORT_ENCODINGS, key="ex_enc", disabled=fmt != "shp")
    key = stamp(sel.source)
    groups = [(n,) for n in sel.visible] + ([sel.visible] if fmt in ("gpkg", "shp", "xlsx") else [])
    columns = st.columns(4)
    for i, names in enumerate(groups):
        name = names[0] if len(names) == 1 else "all"
        label = CATALOGUE[name].label(sel.lang) if name != "all" else text("all_layers", sel.lang)
        columns[i % 4].download_button(
            text("export_layer", sel.lang, layer=label),
            download_of(key, sel.flt, names, fmt, crs, enc),
            file_name=export_name(name, fmt, crs),
            key=f"dl_{name}",
        )
    columns[len(groups) % 4].download_button(
        text("export_stats", sel.lang),
        csv_bytes(labelled_table(table, sel.lang)),
        file_name=export_name("stats", "csv", None),
        key="dl_stats",
    )


def _secret_users() -> dict[str, dict[str, str]]:
    """The ``[users]`` table of ``.streamlit/secrets.toml``; empty without one."""
    try:
        users = st.secrets.get("users", {})
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return {}
    return {str(k): dict(v) for k, v in users.items()}


def current_user(lang: str) -> User | None:
    """The identified editor: the proxy's header, or a login against secrets.toml."""
    by_header = user_from_header(dict(st.context.headers), SETTINGS.auth_header)
    if by_header is not None:
        return by_header
    if "user" in st.session_state:
        return User(*st.session_state["user"])
    users = _secret_users()
    if not users:
        st.info(text("read_only", lang))
        return None
    with st.form("login"):
        login = st.text_input(text("login", lang), key="login_name")
        password = st.text_input(text("password", lang), type="password", key="login_password")
        if st.form_submit_button(text("sign_in", lang)):
            user = verify_password(users, login, password)
            if user is None:
                st.error(text("login_failed", lang))
                return None
            st.session_state["user"] = (user.login, user.name)
            return user
    return None


def _plain(value: object) -> object:
    """A pandas cell as a plain Python value (None for missing)."""
    return None if pd.isna(value) else value.item() if hasattr(value, "item") else value


def render_edits(sel: Selection) -> None:
    """Change a field of one feature or a selection, recorded in the history."""
    user = current_user(sel.lang)
    if user is None:
        return
    if "edit_msg" in st.session_state:
        st.success(st.session_state.pop("edit_msg"))
    layers = layers_of(sel.source)
    names = [n for n in LAYER_NAMES if n in layers]
    layer = st.selectbox(
        text("edit_layer", sel.lang), names, key="edit_layer", format_func=lambda n: CATALOGUE[n].label(sel.lang)
    )
    spec, gdf = CATALOGUE[layer], layers[layer]
    ids = gdf[spec.id_field].astype(str).tolist()
    labels = dict(zip(ids, gdf["name"].astype(str) if "name" in gdf else ids, strict=True))
    chosen = st.multiselect(
        text("edit_features", sel.lang), ids, key="edit_ids", format_func=lambda i: f"{i} {labels[i]}"
    )
    fields = [f for f in spec.field_names if f != spec.id_field]
    name = st.selectbox(
        text("edit_field", sel.lang), fields, key="edit_field", format_func=lambda f: spec.field(f).label(sel.lang)
    )
    f = spec.field(name)
    if f.choices:
        value: object = st.selectbox(
            text("edit_value", sel.lang),
            list(f.codes),
            key="edit_value_code",
            format_func=lambda c: f.value_label(c, sel.lang),
        )
    else:
        value = st.text_input(text("edit_value", sel.lang), key="edit_value_text")
    day = st.date_input(text("edit_date", sel.lang), key="edit_date")
    note = st.text_input(text("edit_note", sel.lang), key="edit_note")
    # The values shown when the planner chose what to edit are what the save is checked
    # against: someone else's change in between makes the save refused, not overwritten.
    shown = gdf.set_index(gdf[spec.id_field].astype(str))[name]
    chosen_now = (layer, tuple(chosen), name)
    state = st.session_state
    if state.get("edit_sig") != chosen_now:
        state["edit_sig"] = chosen_now
        state["edit_seen"] = {i: {name: _plain(shown.loc[i])} for i in chosen}
    if st.button(text("edit_save", sel.lang), key="edit_save", disabled=not chosen):
        try:
            changes = edit_features(
                sel.source, layer, chosen, {name: value}, by=user.name, date=day, note=note, expected=state["edit_seen"]
            )
        except RenewalError as exc:
            st.error(str(exc))
        else:
            state["edit_sig"] = None
            state["edit_msg"] = text("edit_done", sel.lang, n=len(changes), who=user.name)
            st.rerun()  # the map, progress and tables above were drawn before the change


def render_history(sel: Selection) -> None:
    """The latest changes, filtered, and the plan's progress month by month."""
    history = history_of(stamp(sel.source))
    if history.empty:
        st.caption(text("history_none", sel.lang))
        return
    left, right = st.columns(2)
    layer = left.selectbox(text("edit_layer", sel.lang), ["", *sorted(history["layer"].unique())], key="hist_layer")
    person = right.selectbox(text("history_by", sel.lang), ["", *sorted(history["by"].unique())], key="hist_by")
    shown = history if not layer else history[history["layer"] == layer]
    shown = shown if not person else shown[shown["by"] == person]
    st.dataframe(shown.iloc[::-1], hide_index=True, key="history_table")
    monthly = progress_by_month(stamp(sel.source), str(SETTINGS.targets))
    labels = {
        row.Index: (row.label_zh if sel.lang == "zh" else row.label_en)
        for row in progress_of(stamp(sel.source), str(SETTINGS.targets)).itertuples()
    }
    target = st.selectbox(
        text("history_target", sel.lang), list(monthly.columns), key="hist_target", format_func=lambda t: labels[t]
    )
    st.line_chart(monthly[target], height=220)


def render_page(sel: Selection) -> None:
    key = stamp(sel.source)
    if schematic_of(key):
        st.info(text("schematic", sel.lang))
    render_map(sel)
    render_progress(sel)
    table = render_stats(sel)
    render_export(sel, table)
    with st.expander(text("edits", sel.lang)):
        render_edits(sel)
        render_history(sel)


def main() -> None:
    st.set_page_config(page_title="南关城市更新一张图", page_icon="🗺️", layout="wide")
    sel = render_sidebar()
    st.title(text("title", sel.lang))
    st.caption(text("subtitle", sel.lang))
    try:
        render_page(sel)
    except RenewalError as exc:
        st.error(text("error_prefix", sel.lang) + str(exc))
    except Exception as exc:
        # A bug, not bad data: the server log keeps the traceback, the page one line.
        log.exception("unexpected error")
        st.error(text("internal_error", sel.lang, error=f"{type(exc).__name__}: {exc}"))


main()

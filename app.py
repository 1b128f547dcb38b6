"""南关城市更新一张图 — the Streamlit app: a thin shell over ``geo/`` and ``layers/``.

Run with ``streamlit run app.py``. Widgets, calls into the core, rendering; nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from display.assets import AssetUrls, install_static
from display.budget import Choice, View, choose
from display.draw import Overlay, add_overlay, conflict_table, drawn_area, impact_table
from display.extent import extent_svg
from display.labels import (
    BASEMAP_LABELS,
    CRS_LABELS,
    FORMAT_LABELS,
    md_text,
    progress_cards,
    progress_html,
    source_title,
    text,
)
from display.mapbuild import MapOptions, base_map, layer_bounds, layer_groups, layer_payload, search_fit, to_js
from display.safe import md, short
from geo._atomic import disk_full, write_bytes_atomic
from geo._names import file_label, stored_name
from geo.chinacoord import convert_frame
from geo.conflicts import find_conflicts
from geo.crs import source_metric_crs
from geo.edits import EditConflict, edit_features
from geo.errors import RenewalError, SourceError
from geo.errors import message as message_of
from geo.export import (
    EXPORT_CRS,
    EXPORT_ENCODINGS,
    EXPORT_FORMATS,
    csv_bytes,
    export_name,
    geojson_bytes,
    layers_bytes,
)
from geo.filters import Filter, apply_filter, find_features
from geo.history import IMPORT_FIELD
from geo.impact import Impact, check_area, feature_area, impact, parse_area
from geo.importer import read_foreign
from geo.io import check_gpkg_path, dataset_info, list_source_layers, load_layers, read_history
from geo.labels import labelled_table
from geo.limits import check_source_file
from geo.measure import feature_measures
from geo.oplog import configure, operation
from geo.postgis import is_database_url, mask_url
from geo.precision import DECIMALS, column_unit, round_stats
from geo.preview import apply_import, guess_layer, preview_import
from geo.progress import Target, load_targets, monthly_progress, source_targets, targets_beside
from geo.sessions import SessionFolder, remove_stale_sessions
from geo.settings import BASEMAPS, Settings, resolve_source
from geo.sources import source_progress, source_stats
from geo.stats import OUTSIDE, TOTAL, select_districts
from layers import CATALOGUE, LAYER_NAMES, units_layer
from ui.server import middleware, report_bug
from ui.signin import current_user

SETTINGS = Settings.from_env()
STATIC = Path(__file__).resolve().parent / "static"
#: The page's languages, as the sidebar names them.
LANGUAGES = {"中文": "zh", "English": "en"}
#: (layer, field) pairs offered as filters, as the catalogue declares them.
FILTERS = tuple((spec.name, field) for spec in CATALOGUE.values() for field in spec.filters)


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose."""

    lang: str
    source: str
    source_name: str
    basemap: str
    visible: tuple[str, ...]
    flt: Filter
    query: str
    colour_by: tuple[tuple[str, str], ...] = ()


@st.cache_resource
def leaflet_assets() -> AssetUrls:
    return install_static(STATIC)


def bureau_db() -> str:
    """The bureau database's URL: ``NANGUAN_DB_URL``, else ``db_url`` in secrets.toml; may be empty."""
    if SETTINGS.db_url:
        return SETTINGS.db_url
    try:
        return str(st.secrets.get("db_url", ""))
    except FileNotFoundError:
        return ""


def source_choices() -> list[str]:
    """The sources a planner may choose: the sample, the bureau database, this session's uploads.

    Never a typed path or URL, so a browser user cannot make the server open any file or host.
    """
    choices = [str(resolve_source(SETTINGS.source)), bureau_db(), *st.session_state.get("uploads", [])]
    return list(dict.fromkeys(c for c in choices if c))


def source_label(source: str, lang: str) -> str:
    if is_database_url(source):
        return f"{text('source_db', lang)} · {mask_url(source)}"
    return Path(source).name


def stamp(source: str) -> tuple[str, int, int]:
    """A cache key that changes when the data does: a file's time and size; for the database,
    the reload count (a failed reload keeps the last good key, so the page shows that data)."""
    if is_database_url(source):
        pinned = st.session_state.get("db_pinned")
        return pinned if pinned else (source, st.session_state.get("db_reloads", 0), 0)
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
    # a database measures itself (only the result rows travel); a file's layers are the cache's
    layers = None if is_database_url(key[0]) else _layers(key)
    table = source_stats(key[0], flt=flt, tolerance_m2=SETTINGS.overlap_tolerance_m2, layers=layers)
    return select_districts(table, flt.districts)


def targets_of(source: str) -> list[Target] | None:
    """The plan tracked for ``source``: ``NANGUAN_TARGETS`` when set, else the source's own."""
    return load_targets(SETTINGS.targets) if SETTINGS.targets else source_targets(source)


@st.cache_data(show_spinner=False, max_entries=8)
def progress_of(key: tuple[str, int, int], beside: tuple[str, int, int]) -> pd.DataFrame | None:
    """The plan's figures; ``beside`` (the stamp of a targets file beside the source) keys the cache."""
    targets = targets_of(key[0])
    if targets is None:
        return None
    return source_progress(key[0], targets, layers=None if is_database_url(key[0]) else _layers(key))


@st.cache_data(show_spinner=False, max_entries=8)
def history_of(key: tuple[str, int, int]) -> pd.DataFrame:
    return read_history(key[0])


@st.cache_data(show_spinner=False, max_entries=8)
def progress_by_month(key: tuple[str, int, int]) -> pd.DataFrame:
    """Each target's done figure at the end of every month since the first recorded change."""
    history, plan = read_history(key[0]), targets_of(key[0]) or []
    return monthly_progress(_layers(key), plan, history, until=dt.date.today(), not_before=SETTINGS.date_min)


@st.cache_data(show_spinner=False, max_entries=16)
def shown_of(key: tuple[str, int, int], flt: Filter) -> dict[str, gpd.GeoDataFrame]:
    return apply_filter(_layers(key), flt)


@st.cache_data(show_spinner=False, max_entries=8)
def info_of(key: tuple[str, int, int]) -> dict[str, str]:
    return dataset_info(key[0])


@st.cache_data(show_spinner=False, max_entries=64)
def download_of(
    key: tuple[str, int, int], flt: Filter, names: tuple[str, ...], fmt: str, crs: str, enc: str, labels: bool
) -> bytes:
    shown = shown_of(key, flt)
    metric = source_metric_crs(_layers(key))
    chosen = {n: shown[n] for n in names if n in shown}
    with operation("export", source=key[0]):  # logged once per file made; the cache serves repeats
        return layers_bytes(chosen, fmt, crs=crs, encoding=enc, metric=metric, labels=labels)


def _box_source() -> str:
    """The source chosen in the data-source box: one of :func:`source_choices`, whatever a
    request put in the session's state (a crafted path or URL counts as no choice)."""
    chosen, choices = st.session_state.get("source"), source_choices()
    return chosen if chosen in choices else choices[0]


def _effective_source() -> str:
    """The session's working copy of the box's source when there is one, else that source."""
    working = st.session_state.get("working")
    if working and not Path(working["path"]).exists():  # its folder was removed, unused too long
        st.session_state.pop("working", None)
        working = None
    return working["path"] if working and working["base"] == _box_source() else _box_source()


def _session_folder() -> Path:
    """This session's own temporary folder (made on first use), marked used."""
    folder = st.session_state.get("workdir")
    if not isinstance(folder, SessionFolder) or not folder.path.is_dir():
        folder = st.session_state["workdir"] = SessionFolder()
    return folder.touch()


def _saved_upload() -> Path | None:
    """The uploaded file, saved in this session's folder under a short name of the server's own:
    the user's may be too long for the file system or hold a NUL or a path. Messages name it
    as the user did."""
    state = st.session_state
    upload = state.get("upload")
    if upload is None:
        return None
    try:
        src = _session_folder() / "uploads" / stored_name(upload.name)
        src.parent.mkdir(exist_ok=True)
        write_bytes_atomic(src, upload.getvalue())  # a full disk leaves no half file behind
    except OSError as exc:
        if isinstance(exc, RenewalError) or not disk_full(exc):
            raise
        raise SourceError("disk.full") from None
    return src


def _choice(key: str) -> str | None:
    return None if st.session_state.get(key, "auto") == "auto" else st.session_state[key]


def _on_upload() -> None:
    """A new file: forget the last preview, and guess the layer it holds."""
    state = st.session_state
    state.pop("preview", None)
    state.pop("import_msg", None)
    try:
        src = _saved_upload()
    except RenewalError as exc:  # the disk is full: said where the import's messages are
        state["import_msg"] = ("error", (exc, {}))
        return
    if src is None:
        return
    try:
        if src.suffix.lower() == ".gpkg" and len(list_source_layers(src)) > 1:
            state["import_as"] = "source"
            return
        gdf = read_foreign(
            src,
            from_crs=_choice("import_crs"),
            encoding=_choice("import_enc"),
            limits=SETTINGS.limits,
        )
    except RenewalError:
        return  # the preview will say what is wrong
    state["import_as"] = guess_layer(gdf) or state.get("import_as", "source")


def _on_preview() -> None:
    """Read and check the upload; a whole GeoPackage becomes the working source at once."""
    state = st.session_state
    state.pop("preview", None)
    state.pop("import_msg", None)  # shown until the next import action, whatever reruns the map makes
    try:
        src, layer = _saved_upload(), state["import_as"]
    except RenewalError as exc:
        state["import_msg"] = ("error", (exc, {}))
        return
    if src is None:
        return
    name = file_label(state["upload"].name)
    if layer != "source" and is_database_url(_box_source()):
        state["import_msg"] = ("import_db", "")  # the bureau database is changed with `geo import`, not here
        return
    try:
        if layer == "source":
            check_source_file(check_gpkg_path(src), SETTINGS.limits)
            layers_of(str(src))
            state["working"] = {"base": _box_source(), "path": str(src)}
            state["import_msg"] = ("source", name)
            return
        state["preview"] = (
            preview_import(
                src,
                layer,
                base=_effective_source(),
                from_crs=_choice("import_crs"),
                encoding=_choice("import_enc"),
                fix=state.get("import_fix", False),
                limits=SETTINGS.limits,
            ),
            name,
        )
    except RenewalError as exc:
        state["import_msg"] = ("error", (exc, {str(src): name}))


def _on_convert(pseudo: str) -> None:
    st.session_state["import_crs"] = pseudo
    _on_preview()


def _on_apply(mode: str) -> None:
    """Replace or append the previewed layer in this session's working copy."""
    state = st.session_state
    preview, name = state.pop("preview")
    base = _effective_source()
    copy = _session_folder() / "work" / Path(_box_source()).name
    copy.parent.mkdir(exist_ok=True)
    try:
        n = apply_import(preview, base=base, copy=copy, mode=mode, source_file=name)
    except RenewalError as exc:
        state["import_msg"] = ("error", (exc, {base: Path(_box_source()).name, str(copy): copy.name}))
        return
    state["working"] = {"base": _box_source(), "path": str(copy)}
    state["import_msg"] = ("applied", (name, preview.layer, n))


def _on_discard() -> None:
    st.session_state.pop("working", None)
    st.session_state.pop("import_msg", None)


def _on_map_change() -> None:
    """What the planner did on the map: moved it, switched a layer, clicked a district.

    The view is kept for the next time the map is mounted afresh; a layer switched in the
    map's own control switches the sidebar toggle too (one state); a click on a district
    selects it (the tables follow). Each is applied once, when it is new.
    """
    state = st.session_state
    value = state.get("map")
    if not isinstance(value, dict):  # what the browser sent: anything, from a crafted client
        return
    centre, zoom, bounds = value.get("center"), value.get("zoom"), value.get("bounds")
    if isinstance(centre, dict) and _number(centre.get("lat")) and _number(centre.get("lng")) and _number(zoom):
        state["map_view"] = {"center": [centre["lat"], centre["lng"]], "zoom": int(zoom), "bounds": bounds}
    layers = value.get("selected_layers")
    for entry in layers if isinstance(layers, list) else []:
        if not isinstance(entry, dict) or "seq" not in entry:
            continue
        mark = [entry.get("token"), entry["seq"]]
        on = entry.get("on")
        if entry["seq"] and state.get("map_toggle") != mark and isinstance(on, dict):
            state["map_toggle"] = mark
            for name, shown in on.items():
                if name in CATALOGUE:
                    state[f"show_{name}"] = bool(shown)
    click = value.get("last_object_clicked")
    if click and click != state.get("map_click"):
        state["map_click"] = click
        drawing = value.get("last_active_drawing")
        props = drawing.get("properties") if isinstance(drawing, dict) else None
        if isinstance(props, dict) and props.get("layer") == units_layer().name and isinstance(props.get("id"), str):
            state["districts"] = [props["id"]]


def _number(value: object) -> bool:
    """Whether ``value`` is a finite number (not a bool): a coordinate or zoom the map sent."""
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


#: Select boxes whose shown labels follow the language (by key, and by key prefix).
CODED_WIDGETS: tuple[str, ...] = (
    "source", "basemap", "districts", "import_as", "import_crs", "import_enc", "impact_feature",
    "ex_fmt", "ex_crs", "ex_enc", "edit_layer", "edit_ids", "edit_field", "edit_value_code", "hist_target",
)  # fmt: skip
CODED_PREFIXES: tuple[str, ...] = ("f_", "colour_")


def _keep_choices() -> None:
    """Keep every select box's choice across a language switch.

    Streamlit sends a choice back as the label it showed; after a switch those labels are
    the other language's and match no option, so a filter would hold words instead of codes
    (and show nothing). Called before the run, while the choices still read as codes, this
    sets them again as codes, which the new run shows in the new language.
    """
    state = st.session_state
    for key in list(state.keys()):
        if key in CODED_WIDGETS or key.startswith(CODED_PREFIXES):
            state[key] = state[key]


def render_sidebar() -> Selection:
    sb = st.sidebar
    choice = sb.radio(
        "语言 / Language",
        list(LANGUAGES),
        key="lang_choice",
        horizontal=True,
        index=list(LANGUAGES.values()).index(SETTINGS.lang),
        on_change=_keep_choices,
    )
    lang = LANGUAGES[choice]
    if st.session_state.get("source") not in (None, *source_choices()):
        sb.warning(text("source_refused", lang))  # a path or URL put in the request: never opened
        del st.session_state["source"]
    source = sb.selectbox(
        text("source", lang),
        source_choices(),
        key="source",
        help=text("source_help", lang),
        format_func=lambda s: source_label(s, lang),
    )
    if is_database_url(source) and sb.button(text("db_refresh", lang), key="db_refresh"):
        st.session_state["db_reloads"] = st.session_state.get("db_reloads", 0) + 1
    source_name = source_label(source, lang)
    source = _effective_source()
    options = ["none"] if SETTINGS.offline else list(BASEMAPS)
    basemap = sb.selectbox(
        text("basemap", lang),
        options,
        key="basemap",
        placeholder=text("choose_option", lang),
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
    colour_by = []
    for spec in (s for s in CATALOGUE.values() if s.style.by_options):
        field = sb.selectbox(
            text("colour_by", lang, layer=spec.label(lang)),
            spec.colour_fields(),
            key=f"colour_{spec.name}",
            format_func=lambda f, spec=spec: spec.field(f).label(lang),
        )
        colour_by.append((spec.name, field))
    box = sb.expander(text("filters", lang), expanded=False)
    try:
        districts = layers_of(source).get(units_layer().name)
    except RenewalError:
        districts = None
    names = {} if districts is None else dict(zip(districts["code"], districts["name"], strict=True))
    chosen = box.multiselect(
        text("districts", lang),
        list(names),
        key="districts",
        format_func=lambda code: short(names[code]),
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
            placeholder=text("choose_options", lang),
        )
        values.append((layer, field, tuple(picked)))
    query = sb.text_input(text("search", lang), key="query", placeholder=text("search_hint", lang))
    render_import(sb.expander(text("import", lang)), lang)
    return Selection(
        lang,
        source,
        source_name,
        basemap,
        visible,
        Filter(tuple(chosen), tuple(values)),
        query.strip(),
        tuple(colour_by),
    )


def render_import(box: st.delta_generator.DeltaGenerator, lang: str) -> None:
    box.file_uploader(
        text("import_file", lang),
        type=["geojson", "json", "gpkg", "zip", "kml", "csv"],
        key="upload",
        on_change=_on_upload,
    )
    box.selectbox(
        text("import_as", lang),
        ["source", *LAYER_NAMES],
        key="import_as",
        placeholder=text("choose_option", lang),
        format_func=lambda n: text("import_source", lang) if n == "source" else CATALOGUE[n].label(lang),
    )
    box.selectbox(
        text("import_crs", lang),
        list(CRS_LABELS),
        key="import_crs",
        placeholder=text("choose_option", lang),
        format_func=lambda c: CRS_LABELS[c][0 if lang == "zh" else 1],
    )
    box.selectbox(
        text("import_enc", lang),
        ["auto", "UTF-8", "GBK", "GB18030"],
        key="import_enc",
        placeholder=text("choose_option", lang),
        format_func=lambda c: text("auto", lang) if c == "auto" else c,
    )
    box.checkbox(text("import_fix", lang), key="import_fix")
    box.button(text("import_preview", lang), key="do_preview", on_click=_on_preview)
    kind, detail = st.session_state.get("import_msg", (None, None))
    if kind == "applied":
        name, layer, n = detail
        box.success(md_text("import_applied", lang, file=name, layer=CATALOGUE[layer].label(lang), n=n))
    elif kind == "source":
        box.success(md_text("import_source_done", lang, file=detail))
    elif kind == "error":
        exc, names = detail
        box.error(md(message_of(exc, lang, names=names)))
    elif kind == "import_db":
        box.error(text("import_db", lang))
    working = st.session_state.get("working")
    if working and working["base"] == _box_source():
        box.caption(text("working_copy", lang))
        path = Path(working["path"])
        box.download_button(
            text("working_download", lang),
            path.read_bytes(),
            file_name=f"{Path(_box_source()).stem}_working_{dt.date.today():%Y%m%d}.gpkg",
            mime="application/geopackage+sqlite3",
            key="dl_working",
        )
        box.button(text("working_discard", lang), key="discard", on_click=_on_discard)


def render_preview(lang: str) -> None:
    """The previewed import: what it holds and where, then replace, append or cancel."""
    preview, name = st.session_state["preview"]
    layer = CATALOGUE[preview.layer].label(lang)
    panel = st.container(border=True, key="import_preview")
    panel.subheader(md_text("preview_title", lang, file=name))
    left, right = panel.columns([1, 2])
    districts = layers_of(_effective_source()).get("districts")
    left.image(extent_svg(districts, preview.gdf), caption=text("preview_map", lang))
    west, south, east, north = preview.bounds
    right.markdown(
        "\n".join(
            f"- {line}"
            for line in (
                text("preview_count", lang, n=preview.count, layer=layer, existing=preview.existing),
                md_text("preview_crs", lang, crs=preview.crs_name),
                text("preview_extent", lang, west=west, east=east, south=south, north=north),
                text("preview_outside", lang, n=preview.outside),
            )
        )
    )
    if preview.shift:
        pseudo = CRS_LABELS[preview.shift][0 if lang == "zh" else 1]
        right.warning(text("preview_shift", lang, name=pseudo))
        right.button(
            text("preview_convert", lang, name=pseudo), key="convert", on_click=_on_convert, args=(preview.shift,)
        )
    rows = preview.rows()
    right.dataframe(rows.rename(columns=lambda c: CATALOGUE[preview.layer].field(c).label(lang)), hide_index=True)
    if preview.clashes:
        right.caption(md_text("preview_clashes", lang, ids=", ".join(short(i) for i in preview.clashes[:10])))
    replace, append, cancel = panel.columns(3)
    replace.button(text("import_replace", lang), key="replace", on_click=_on_apply, args=("replace",), type="primary")
    append.button(
        text("import_append", lang), key="append", on_click=_on_apply, args=("append",), disabled=bool(preview.clashes)
    )
    cancel.button(text("import_cancel", lang), key="cancel", on_click=lambda: st.session_state.pop("preview", None))


def _layer_filter(flt: Filter, name: str) -> Filter:
    """The part of a filter that decides one layer's features."""
    return Filter(flt.districts, tuple(v for v in flt.values if v[0] == name))


@st.cache_resource(show_spinner=False, max_entries=64)
def map_layer_of(key: tuple[str, int, int], flt: Filter, name: str, gcj02: bool) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """One layer as the map draws it: filtered, in lon/lat (GCJ-02 for Amap), with each
    feature's length or area measured in the metric CRS. Sub-districts are never filtered:
    the map keeps the neighbours of a selected one drawn. Shared and read-only (its spatial
    index is built once)."""
    layers = _layers(key)
    gdf = (
        layers[name]
        if name == "districts"
        else apply_filter({n: layers[n] for n in (name, "districts") if n in layers}, flt)[name]
    )
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
    # the works, not the sub-districts nor the context areas
    works = {n: g for n, g in layers.items() if not (CATALOGUE[n].units or CATALOGUE[n].context)}
    return layer_bounds(works) or layer_bounds(layers)


def _view() -> View | None:
    """The view the map last reported, grown to a grid so that small pans change nothing."""
    view = st.session_state.get("map_view") or {}
    b = view.get("bounds") or {}
    try:
        sw, ne = b["_southWest"], b["_northEast"]
        return View(sw["lat"], sw["lng"], ne["lat"], ne["lng"], int(view["zoom"])).snapped()
    except (KeyError, TypeError, ValueError):
        return None


def render_map(sel: Selection, overlay: Overlay) -> None:
    key = stamp(sel.source)
    hits = find_features(shown_of(key, sel.flt), sel.query) if sel.query else []
    if sel.query:
        (st.success if hits else st.warning)(
            text("search_found", sel.lang, n=len(hits))
            if hits
            else md_text("search_none", sel.lang, q=short(sel.query))
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
        colour_by=sel.colour_by,
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
            colour_by=tuple(c for c in options.colour_by if c[0] == name),
        )
        pick = chosen.get(name)
        summary, body = map_payload_of(
            key,
            flts[name],
            name,
            own,
            None if pick is None else pick.rows,
            None if pick is None else pick.tolerance_deg,
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
        add_overlay(m, overlay),
        key="map",
        height=options.height_px,
        use_container_width=True,
        returned_objects=[
            "last_active_drawing",
            "all_drawings",
            "last_object_clicked",
            "selected_layers",
            "center",
            "zoom",
            "bounds",
        ],
        center=tuple(last["center"]) if last else None,
        zoom=last["zoom"] if last else None,
        feature_group_to_add=groups,
        on_change=_on_map_change,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def impact_of(key: tuple[str, int, int], area: str, name: str, gcj02: bool, buffer_m: float) -> Impact:
    shape = parse_area(area, name=name, limits=SETTINGS.limits)
    if gcj02:  # drawn on Amap's tiles
        shape = convert_frame(gpd.GeoDataFrame(geometry=shape), "gcj02", "wgs84").geometry
    return impact(_layers(key), shape, buffer_m=buffer_m)


@st.cache_data(show_spinner=False, max_entries=8)
def conflicts_of(key: tuple[str, int, int]) -> gpd.GeoDataFrame:
    return find_conflicts(_layers(key))


def _on_area_upload() -> None:
    """An uploaded area, held to the import limits before it is decoded (or kept in the session)."""
    state = st.session_state
    state.pop("impact_refused", None)
    upload = state.get("impact_upload")
    if upload is not None:
        name, data = file_label(upload.name), upload.getvalue()
        try:
            check_area(data, name=name, limits=SETTINGS.limits)
        except RenewalError as exc:
            state.pop("impact_area", None)
            state["impact_refused"] = exc
            return
        state["impact_area"] = (data.decode("utf-8", errors="replace"), name, False)


def _clear_area() -> None:
    st.session_state.pop("impact_refused", None)
    st.session_state.pop("impact_area", None)
    st.session_state.pop("impact_feature", None)


def _on_feature_area(layers: dict[str, gpd.GeoDataFrame], names: dict[str, str]) -> None:
    """A context area (a key area of the plan) chosen as the area to analyse."""
    ref = st.session_state.get("impact_feature")
    if ref:
        area = feature_area(layers, ref).to_crs(4326)
        st.session_state["impact_area"] = (area.iloc[:1].to_json(), names[ref], False)


def _context_areas(layers: dict[str, gpd.GeoDataFrame], lang: str) -> dict[str, str]:
    """The context polygons a planner can take as the area (``areas:A04`` → 重庆路商圈), by name."""
    out: dict[str, str] = {}
    for spec in CATALOGUE.values():
        gdf = layers.get(spec.name)
        if spec.context and spec.geometry == "polygon" and gdf is not None:
            names = gdf["name"] if "name" in gdf else gdf[spec.id_field]
            for fid, name in zip(gdf[spec.id_field].astype(str), names.astype(str), strict=True):
                out[f"{spec.name}:{fid}"] = f"{spec.label(lang)} · {name}"
    return out


def render_impact(sel: Selection) -> Overlay:
    """The impact panel for the area drawn or uploaded; returns what the map draws over the layers."""
    lang, state, key = sel.lang, st.session_state, stamp(sel.source)
    box = st.sidebar.expander(text("impact", lang), expanded=True)
    buffer_m = box.number_input(
        text("impact_buffer", lang), 0.0, 5000.0, 0.0, 10.0, key="impact_buffer", help=text("impact_buffer_help", lang)
    )
    drawn = drawn_area((state.get("map") or {}).get("all_drawings"))
    if drawn is not None and drawn != state.get("impact_seen"):  # a new shape on the map
        state["impact_seen"] = drawn
        state["impact_area"] = (drawn, text("impact_drawn", lang), sel.basemap == "gaode")
        state.pop("impact_refused", None)
    st.subheader(text("impact", lang))
    st.file_uploader(
        text("impact_upload", lang), type=["geojson", "json"], key="impact_upload", on_change=_on_area_upload
    )
    choices = _context_areas(_layers(key), lang)
    if choices:
        st.selectbox(
            text("impact_key_area", lang),
            list(choices),
            index=None,
            format_func=choices.__getitem__,
            key="impact_feature",
            on_change=_on_feature_area,
            args=(_layers(key), choices),
            placeholder=text("impact_key_area_none", lang),
        )
    result, touched = None, {}
    if "impact_refused" in state:
        st.error(md(message_of(state["impact_refused"], lang)))
    if "impact_area" not in state:
        st.caption(text("impact_hint", lang))
    else:
        area, name, gcj02 = state["impact_area"]
        st.caption(md_text("impact_of", lang, name=short(name)))
        try:
            result = impact_of(key, area, name, gcj02, float(buffer_m))
        except RenewalError as exc:
            st.error(md(message_of(exc, lang)))
        st.button(text("impact_clear", lang), key="impact_clear", on_click=_clear_area)
    if result is not None:
        touched = result.touched(_layers(key))
        render_impact_figures(result, lang)
    found = conflicts_of(key)
    rows = ((state.get("conflicts_table") or {}).get("selection") or {}).get("rows") or []
    focus = None
    row = rows[0] if isinstance(rows, list) and rows else None
    if isinstance(row, int) and 0 <= row < len(found):  # a conflict chosen in the table below: zoom to it
        focus = tuple(found.iloc[[row]].to_crs(4326).total_bounds)
    return Overlay(lang, sel.basemap == "gaode", result, touched, found, focus is not None, focus)


def render_conflicts(sel: Selection) -> None:
    st.subheader(text("conflicts", sel.lang))
    found = conflicts_of(stamp(sel.source))
    if found.empty:
        st.caption(text("conflicts_none", sel.lang))
        return
    st.caption(text("conflicts_hint", sel.lang))
    st.dataframe(
        conflict_table(found, sel.lang),
        hide_index=True,
        key="conflicts_table",
        on_select="rerun",
        selection_mode="single-row",
    )


def render_impact_figures(result: Impact, lang: str) -> None:
    if not result.touches_data:
        st.warning(text("impact_outside", lang))
    s = result.summary()
    label = {n: CATALOGUE[n].label(lang) for n in CATALOGUE}
    cards = [
        (text("impact_area_ha", lang), f"{s['area_ha']:,.2f} ha", None),
        (label["parcels"], f"{s['parcels_count']} · {s['parcels_ha']:,.2f} ha", None),
        (text("impact_households", lang), f"{s['households']:,}", text("impact_whole", lang, n=s["households_whole"])),
        (text("impact_resettled", lang), f"{s['resettled']:,}", text("impact_whole", lang, n=s["resettled_whole"])),
        (label["roads"], f"{s['roads_km']:,.3f} km", None),
        (label["pipes"], f"{s['pipes_km']:,.3f} km", None),
        (label["greenbelt"], f"{s['greenbelt_ha']:,.2f} ha", None),
        (label["facilities"], f"{s['facilities_count']}", None),
    ]
    columns = st.columns(4)
    for i, (name, value, note) in enumerate(cards):
        columns[i % 4].metric(name, value, help=note)
    if not result.features.empty:
        st.dataframe(impact_table(result.features, lang), hide_index=True, key="impact_table")
    left, right = st.columns(2)
    left.download_button(
        text("impact_download_area", lang),
        geojson_bytes(result.area_frame(), layer="impact_area"),
        file_name=export_name("impact_area", "geojson", "EPSG:4326"),
        key="dl_impact_area",
    )
    right.download_button(
        text("impact_download_report", lang),
        csv_bytes(result.features),
        file_name=export_name("impact_report", "csv", None),
        key="dl_impact_report",
    )


def render_stats(sel: Selection) -> pd.DataFrame:
    st.subheader(text("stats", sel.lang))
    table = stats_of(stamp(sel.source), sel.flt)
    if sel.flt.districts:
        names = "、".join(md(short(n)) for n in table["district_name"].iloc[:-1])
        st.caption(text("selected", sel.lang, names=names))
    shown = labelled_table(round_stats(table), sel.lang)
    formats = {
        label: st.column_config.NumberColumn(format=f"%.{DECIMALS[unit]}f")
        for column, label in zip(table.columns, shown.columns, strict=True)
        if (unit := column_unit(column, table)) is not None
    }
    # 35 px a row and a 2 px border: the frame ends at the TOTAL row, with no blank row below
    st.dataframe(
        shown,
        hide_index=True,
        key="stats_table",
        column_config=formats,
        row_height=35,
        height=35 * (len(table) + 1) + 2,
    )
    body = table[~table.index.isin([OUTSIDE, TOTAL])].set_index("district_name")
    left, right = st.columns(2)
    left.caption(text("chart_roads", sel.lang))
    left.bar_chart(body["roads_km"], horizontal=True, sort=False)
    right.caption(text("chart_households", sel.lang))
    right.bar_chart(body["households"], horizontal=True, sort=False)
    return table


def render_progress(sel: Selection) -> None:
    frame = progress_of(stamp(sel.source), stamp(str(targets_beside(sel.source))))
    if frame is None:
        return
    st.subheader(text("progress", sel.lang))
    st.markdown(progress_html(progress_cards(frame, sel.lang)), unsafe_allow_html=True)


def render_export(sel: Selection, table: pd.DataFrame) -> None:
    st.subheader(text("export", sel.lang))
    fmt_col, crs_col, enc_col = st.columns(3)
    fmt = fmt_col.selectbox(
        text("export_format", sel.lang),
        EXPORT_FORMATS,
        key="ex_fmt",
        format_func=lambda f: FORMAT_LABELS[f],
        placeholder=text("choose_option", sel.lang),
    )
    crs = crs_col.selectbox(
        text("export_crs", sel.lang),
        EXPORT_CRS,
        key="ex_crs",
        disabled=fmt in ("csv", "xlsx"),
        placeholder=text("choose_option", sel.lang),
    )
    enc = enc_col.selectbox(
        text("export_enc", sel.lang),
        EXPORT_ENCODINGS,
        key="ex_enc",
        disabled=fmt != "shp",
        placeholder=text("choose_option", sel.lang),
    )
    labels = st.checkbox(text("export_labels", sel.lang), key="ex_labels", help=text("export_labels_help", sel.lang))
    key = stamp(sel.source)
    present = tuple(n for n in sel.visible if n in _layers(key))  # a source may lack a layer of the catalogue
    groups = [(n,) for n in present] + ([present] if fmt in ("gpkg", "shp", "xlsx") else [])
    columns = st.columns(4)
    try:
        for i, names in enumerate(groups):
            name = names[0] if len(names) == 1 else "all"
            label = CATALOGUE[name].label(sel.lang) if name != "all" else text("all_layers", sel.lang)
            columns[i % 4].download_button(
                text("export_layer", sel.lang, layer=label),
                download_of(key, sel.flt, names, fmt, crs, enc, labels),
                file_name=export_name(name, fmt, crs),
                key=f"dl_{name}",
            )
    except RenewalError as exc:
        st.error(md(message_of(exc, sel.lang)))
    stats_table = labelled_table(round_stats(table), "zh") if labels else round_stats(table)
    columns[len(groups) % 4].download_button(
        text("export_stats", sel.lang),
        csv_bytes(stats_table),
        file_name=export_name("stats", "csv", None),
        key="dl_stats",
    )


def _plain(value: object) -> object:
    """A pandas cell as a plain Python value (None for missing)."""
    return None if pd.isna(value) else value.item() if hasattr(value, "item") else value


def _reread(source: str) -> None:
    """Make the next run read the database again (a file's stamp follows its changes by itself)."""
    if is_database_url(source):
        st.session_state["db_reloads"] = st.session_state.get("db_reloads", 0) + 1


def render_edits(sel: Selection) -> None:
    """Change a field of one feature or a selection, recorded in the history."""
    user = current_user(sel.lang, SETTINGS)
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
        text("edit_features", sel.lang), ids, key="edit_ids", format_func=lambda i: short(f"{i} {labels[i]}")
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
            if isinstance(exc, EditConflict):
                _reread(sel.source)  # the next run shows the values as they are now
            st.error(md(exc))
        else:
            _reread(sel.source)
            state["edit_sig"] = None
            state["edit_msg"] = md_text("edit_done", sel.lang, n=len(changes), who=user.name)
            st.rerun()  # the map, progress and tables above were drawn before the change


def render_history(sel: Selection) -> None:
    """The latest changes, filtered, and the plan's progress month by month."""
    try:
        history = history_of(stamp(sel.source))
    except RenewalError as exc:  # e.g. a database role that may not read the history: the rest of the page stays
        st.warning(md(mask_url(message_of(exc, sel.lang, names={sel.source: sel.source_name}))))
        return
    if history.empty:
        st.caption(text("history_none", sel.lang))
        return
    left, right = st.columns(2)
    layer = left.selectbox(text("edit_layer", sel.lang), ["", *sorted(history["layer"].unique())], key="hist_layer")
    person = right.selectbox(text("history_by", sel.lang), ["", *sorted(history["by"].unique())], key="hist_by")
    shown = history if not layer else history[history["layer"] == layer]
    shown = shown if not person else shown[shown["by"] == person]
    st.dataframe(shown.iloc[::-1], hide_index=True, key="history_table")
    plan = progress_of(stamp(sel.source), stamp(str(targets_beside(sel.source))))
    if plan is None or (history["field"] == IMPORT_FIELD).all():
        # Imports and publishes replace layers and are not rebuilt: without an edit the line
        # is flat, and for a database it would cost reading every layer into the page.
        return
    monthly = progress_by_month(stamp(sel.source))
    labels = {row.Index: (row.label_zh if sel.lang == "zh" else row.label_en) for row in plan.itertuples()}
    target = st.selectbox(
        text("history_target", sel.lang), list(monthly.columns), key="hist_target", format_func=lambda t: labels[t]
    )
    st.line_chart(monthly[target], height=220)


def render_page(sel: Selection) -> None:
    key = stamp(sel.source)
    # Read the source before any widget: a source that fails (a database gone) fails here,
    # so the page with the last good data can be drawn after it with the same widget keys.
    _layers(key)
    if info_of(key).get("schematic") == "true":
        st.info(text("schematic", sel.lang))
    if "preview" in st.session_state:
        render_preview(sel.lang)
    # The plan's figures first: they are small and quick, the map of a big city is not.
    render_progress(sel)
    above = st.container()  # the map goes above the impact panel, which decides what it shows
    overlay = render_impact(sel)
    with above:
        render_map(sel, overlay)
    table = render_stats(sel)
    render_export(sel, table)
    with st.expander(text("edits", sel.lang)):
        render_edits(sel)
        render_history(sel)
    render_conflicts(sel)


def _database_ready(sel: Selection) -> bool:
    """Check the bureau database before drawing anything; on a fault, show the last good data.

    Returns whether the page can be drawn (from fresh data, or pinned to the last data read
    with a warning that it may be stale).
    """
    try:
        stats_of(stamp(sel.source), sel.flt)
    except RenewalError as exc:
        shown = message_of(exc, sel.lang, names={sel.source: sel.source_name})
        st.error(text("error_prefix", sel.lang) + md(mask_url(shown)))
        good = st.session_state.get("db_good")
        if not (good and good[0] == sel.source and good != stamp(sel.source)):
            return False
        st.warning(text("db_stale", sel.lang))
        st.session_state["db_pinned"] = good
        return True
    st.session_state["db_good"] = stamp(sel.source)
    return True


def render_app() -> None:
    state = st.session_state
    if "started" not in state:  # a new session: clear what sessions of a killed server left
        state["started"] = True
        remove_stale_sessions(SETTINGS.session_max_age_h)
    elif isinstance(state.get("workdir"), SessionFolder):
        state["workdir"].touch()
    sel = render_sidebar()
    try:
        title, subtitle = source_title(info_of(stamp(sel.source)), sel.source_name, sel.lang)
    except RenewalError:
        title, subtitle = text("title", sel.lang), ""
    st.title(md(title))
    st.caption(md(subtitle))
    try:
        if not is_database_url(sel.source) or _database_ready(sel):
            render_page(sel)
    except RenewalError as exc:
        shown = message_of(exc, sel.lang, names={sel.source: sel.source_name})
        st.error(text("error_prefix", sel.lang) + md(mask_url(shown)))
    finally:
        st.session_state.pop("db_pinned", None)


def page_lang() -> str:
    """The page's language: the sidebar's choice (as last sent, before the sidebar is drawn)."""
    return LANGUAGES.get(st.session_state.get("lang_choice", ""), SETTINGS.lang)


def main() -> None:
    configure(SETTINGS.log_file, SETTINGS.log_level, secrets=(SETTINGS.tianditu_key, bureau_db()))
    st.set_page_config(page_title=text("title", SETTINGS.lang), page_icon="🗺️", layout="wide")
    try:
        render_app()
    except Exception as exc:  # a bug, not bad data: the server log keeps the traceback, the page one line
        report_bug(exc, page_lang())


def _uncaught(exc: Exception) -> bool:
    """A bug outside :func:`main` (in a widget's callback): one line too, not Streamlit's display."""
    report_bug(exc, page_lang())
    return True


if __name__ == "__main__":  # a run of the page
    # Imported in a run, not above: the map's component registers with the server only when
    # its module is imported inside a run, and `streamlit run` imports this file before that.
    from streamlit_folium import st_folium

    main()
else:  # `streamlit run app.py` imports this file to learn how to serve it: behind ui.server's Guard
    app = st.App(__file__, middleware=middleware(SETTINGS), on_script_error=_uncaught)

"""南关城市更新一张图 — the Streamlit app: a thin shell over ``geo/`` and ``layers/``.

Run with ``streamlit run app.py``. Widgets, calls into the core, rendering; nothing else.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.crs import source_metric_crs
from geo.errors import RenewalError
from geo.errors import message as message_of
from geo.export import EXPORT_CRS, EXPORT_ENCODINGS, EXPORT_FORMATS, csv_bytes, export_name, layers_bytes
from geo.filters import Filter, apply_filter, attribute_filter, find_features
from geo.importer import read_foreign
from geo.io import check_gpkg_path, dataset_info, list_source_layers, load_layers
from geo.precision import DECIMALS, column_unit, round_stats
from geo.preview import apply_import, guess_layer, preview_import
from geo.progress import Target, load_targets, plan_progress, source_targets, targets_beside
from geo.settings import BASEMAPS, Settings, resolve_source
from geo.stats import OUTSIDE, TOTAL, district_stats, select_districts
from layers import CATALOGUE, LAYER_NAMES
from layers.assets import AssetUrls, install_static
from layers.extent import extent_svg
from layers.labels import (
    BASEMAP_LABELS,
    CRS_LABELS,
    FORMAT_LABELS,
    labelled_table,
    progress_cards,
    progress_html,
    source_title,
    text,
)
from layers.mapbuild import MapOptions, build_map

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
    source_name: str
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


@st.cache_data(show_spinner=False, max_entries=8)
def _layers(key: tuple[str, int, int]) -> dict[str, gpd.GeoDataFrame]:
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
def progress_of(key: tuple[str, int, int], beside: tuple[str, int, int]) -> pd.DataFrame | None:
    """The plan's figures; ``beside`` (the stamp of a targets file beside the source) keys the cache."""
    targets: list[Target] | None = load_targets(SETTINGS.targets) if SETTINGS.targets else source_targets(key[0])
    return None if targets is None else plan_progress(_layers(key), targets)


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
    return layers_bytes(chosen, fmt, crs=crs, encoding=enc, metric=metric, labels=labels)


def _box_source() -> str:
    """The source named in the data-source box, resolved."""
    return str(resolve_source(st.session_state.get("source", SETTINGS.source)))


def _effective_source() -> str:
    """The session's working copy of the box's source when there is one, else that source."""
    working = st.session_state.get("working")
    return working["path"] if working and working["base"] == _box_source() else _box_source()


def _saved_upload() -> Path | None:
    """The uploaded file, saved in this session's folder under the name the user gave it."""
    state = st.session_state
    upload = state.get("upload")
    if upload is None:
        return None
    folder = Path(state.setdefault("workdir", tempfile.mkdtemp(prefix="nanguan-session-")))
    src = folder / "uploads" / Path(upload.name).name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(upload.getvalue())
    return src


def _choice(key: str) -> str | None:
    return None if st.session_state.get(key, "auto") == "auto" else st.session_state[key]


def _on_upload() -> None:
    """A new file: forget the last preview, and guess the layer it holds."""
    state = st.session_state
    state.pop("preview", None)
    src = _saved_upload()
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
            max_unzipped_mb=SETTINGS.max_unzipped_mb,
        )
    except RenewalError:
        return  # the preview will say what is wrong
    state["import_as"] = guess_layer(gdf) or state.get("import_as", "source")


def _on_preview() -> None:
    """Read and check the upload; a whole GeoPackage becomes the working source at once."""
    state = st.session_state
    state.pop("preview", None)
    src, layer = _saved_upload(), state["import_as"]
    if src is None:
        return
    name = state["upload"].name
    try:
        if layer == "source":
            layers_of(str(check_gpkg_path(src)))
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
                max_unzipped_mb=SETTINGS.max_unzipped_mb,
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
    copy = Path(state["workdir"]) / "work" / Path(_box_source()).name
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


def _on_map_click() -> None:
    """A click on a district selects it (the tables follow)."""
    clicked = (st.session_state.get("map") or {}).get("last_active_drawing") or {}
    props = clicked.get("properties") or {}
    if props.get("layer") == "districts":
        st.session_state["districts"] = [props["id"]]


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
    source_name = sb.text_input(
        text("source", lang), value=SETTINGS.source, key="source", help=text("source_help", lang)
    )
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
    visible = tuple(n for n in LAYER_NAMES if sb.checkbox(CATALOGUE[n].label(lang), value=True, key=f"show_{n}"))
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
            placeholder=text("choose_options", lang),
        )
        values.append((layer, field, tuple(picked)))
    query = sb.text_input(text("search", lang), key="query", placeholder=text("search_hint", lang))
    render_import(sb.expander(text("import", lang)), lang)
    return Selection(lang, source, source_name, basemap, visible, Filter(tuple(chosen), tuple(values)), query.strip())


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
    kind, detail = st.session_state.pop("import_msg", (None, None))
    if kind == "applied":
        name, layer, n = detail
        box.success(text("import_applied", lang, file=name, layer=CATALOGUE[layer].label(lang), n=n))
    elif kind == "source":
        box.success(text("import_source_done", lang, file=detail))
    elif kind == "error":
        exc, names = detail
        box.error(message_of(exc, lang, names=names))
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
    panel.subheader(text("preview_title", lang, file=name))
    left, right = panel.columns([1, 2])
    districts = layers_of(_effective_source()).get("districts")
    left.image(extent_svg(districts, preview.gdf), caption=text("preview_map", lang))
    west, south, east, north = preview.bounds
    right.markdown(
        "\n".join(
            f"- {line}"
            for line in (
                text("preview_count", lang, n=preview.count, layer=layer, existing=preview.existing),
                text("preview_crs", lang, crs=preview.crs_name),
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
        right.caption(text("preview_clashes", lang, ids=", ".join(preview.clashes[:10])))
    replace, append, cancel = panel.columns(3)
    replace.button(text("import_replace", lang), key="replace", on_click=_on_apply, args=("replace",), type="primary")
    append.button(
        text("import_append", lang), key="append", on_click=_on_apply, args=("append",), disabled=bool(preview.clashes)
    )
    cancel.button(text("import_cancel", lang), key="cancel", on_click=lambda: st.session_state.pop("preview", None))


def render_map(layers: dict[str, gpd.GeoDataFrame], sel: Selection) -> None:
    hits = find_features(layers, sel.query) if sel.query else []
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
    )
    st_folium(
        build_map(layers, options),
        key="map",
        height=options.height_px,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        on_change=_on_map_click,
    )


def render_stats(sel: Selection) -> pd.DataFrame:
    st.subheader(text("stats", sel.lang))
    table = stats_of(stamp(sel.source), sel.flt)
    if sel.flt.districts:
        names = "、".join(table["district_name"].iloc[:-1])
        st.caption(text("selected", sel.lang, names=names))
    shown = labelled_table(round_stats(table), sel.lang)
    formats = {
        label: st.column_config.NumberColumn(format=f"%.{DECIMALS[unit]}f")
        for column, label in zip(table.columns, shown.columns, strict=True)
        if (unit := column_unit(column)) is not None
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
    groups = [(n,) for n in sel.visible] + ([sel.visible] if fmt in ("gpkg", "shp", "xlsx") else [])
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
        st.error(message_of(exc, sel.lang))
    stats_table = labelled_table(round_stats(table), "zh") if labels else round_stats(table)
    columns[len(groups) % 4].download_button(
        text("export_stats", sel.lang),
        csv_bytes(stats_table),
        file_name=export_name("stats", "csv", None),
        key="dl_stats",
    )


def render_page(sel: Selection) -> None:
    key = stamp(sel.source)
    if info_of(key).get("schematic") == "true":
        st.info(text("schematic", sel.lang))
    if "preview" in st.session_state:
        render_preview(sel.lang)
    # The plan's figures first: they are small and quick, the map of a big city is not.
    render_progress(sel)
    shown = shown_of(key, sel.flt)
    render_map(shown, sel)
    table = render_stats(sel)
    render_export(sel, table)


def main() -> None:
    st.set_page_config(page_title=text("title", SETTINGS.lang), page_icon="🗺️", layout="wide")
    sel = render_sidebar()
    try:
        title, subtitle = source_title(info_of(stamp(sel.source)), Path(sel.source).name, sel.lang)
        st.title(title)
        st.caption(subtitle)
        render_page(sel)
    except RenewalError as exc:
        st.title(text("title", sel.lang))
        st.error(text("error_prefix", sel.lang) + message_of(exc, sel.lang, names={sel.source: sel.source_name}))
    except Exception as exc:
        # A bug, not bad data: the server log keeps the traceback, the page one line.
        log.exception("unexpected error")
        st.error(text("internal_error", sel.lang, error=f"{type(exc).__name__}: {exc}"))


main()

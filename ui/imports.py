"""The import panel: a planner's file becomes the working source, or a layer of this
session's working copy after a preview (replace, append or cancel).

The upload is saved under a short name of the server's own in the session's folder;
messages name it as the user did. The shared source is never changed here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import streamlit as st

from display.extent import extent_svg
from display.labels import CRS_LABELS, md_text, text
from display.safe import md, short
from geo._atomic import disk_full, write_bytes_atomic
from geo._names import file_label, stored_name
from geo.errors import RenewalError, SourceError
from geo.errors import message as message_of
from geo.importer import read_foreign
from geo.io import check_gpkg_path
from geo.limits import check_source_file
from geo.preview import apply_import, guess_layer, preview_import
from geo.store import open_source
from layers import CATALOGUE, LAYER_NAMES, units_layer

from .data import layers_of
from .state import box_source, choice, effective_source, session_folder, settings

__all__ = ["render_import", "render_preview"]

#: File types the import offers.
IMPORT_TYPES = ["geojson", "json", "gpkg", "zip", "kml", "csv"]


def _saved_upload() -> Path | None:
    """The uploaded file, saved in this session's folder under a short name of the server's own:
    the user's may be too long for the file system or hold a NUL or a path."""
    upload = st.session_state.get("upload")
    if upload is None:
        return None
    try:
        src = session_folder() / "uploads" / stored_name(upload.name)
        src.parent.mkdir(exist_ok=True)
        write_bytes_atomic(src, upload.getvalue())  # a full disk leaves no half file behind
    except OSError as exc:
        if isinstance(exc, RenewalError) or not disk_full(exc):
            raise
        raise SourceError("disk.full") from None
    return src


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
        if src.suffix.lower() == ".gpkg" and len(open_source(src).table_names()) > 1:
            state["import_as"] = "source"
            return
        gdf = read_foreign(src, from_crs=choice("import_crs"), encoding=choice("import_enc"), limits=settings().limits)
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
    if layer != "source" and open_source(box_source()).is_database:
        state["import_msg"] = ("import_db", "")  # the bureau database is changed with `geo import`, not here
        return
    limits = settings().limits
    try:
        if layer == "source":
            check_source_file(check_gpkg_path(src), limits)
            layers_of(str(src))
            state["working"] = {"base": box_source(), "path": str(src)}
            state["import_msg"] = ("source", name)
            return
        preview = preview_import(
            src,
            layer,
            base=effective_source(),
            from_crs=choice("import_crs"),
            encoding=choice("import_enc"),
            fix=state.get("import_fix", False),
            limits=limits,
        )
        state["preview"] = (preview, name)
    except RenewalError as exc:
        state["import_msg"] = ("error", (exc, {str(src): name}))


def _on_convert(pseudo: str) -> None:
    st.session_state["import_crs"] = pseudo
    _on_preview()


def _on_apply(mode: Literal["replace", "append"]) -> None:
    """Replace or append the previewed layer in this session's working copy."""
    state = st.session_state
    preview, name = state.pop("preview")
    base = effective_source()
    copy = session_folder() / "work" / Path(box_source()).name
    copy.parent.mkdir(exist_ok=True)
    try:
        n = apply_import(preview, base=base, copy=copy, mode=mode, source_file=name)
    except RenewalError as exc:
        state["import_msg"] = ("error", (exc, {base: Path(box_source()).name, str(copy): copy.name}))
        return
    state["working"] = {"base": box_source(), "path": str(copy)}
    state["import_msg"] = ("applied", (name, preview.layer, n))


def _on_discard() -> None:
    st.session_state.pop("working", None)
    st.session_state.pop("import_msg", None)


def render_import(box: st.delta_generator.DeltaGenerator, lang: str) -> None:
    """The import's choices and its last message, in ``box`` (the sidebar's expander)."""
    box.file_uploader(text("import_file", lang), type=IMPORT_TYPES, key="upload", on_change=_on_upload)
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
    if working and working["base"] == box_source():
        box.caption(text("working_copy", lang))
        box.download_button(
            text("working_download", lang),
            Path(working["path"]).read_bytes(),
            file_name=f"{Path(box_source()).stem}_working_{dt.date.today():%Y%m%d}.gpkg",
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
    districts = layers_of(effective_source()).get(units_layer().name)
    left.image(extent_svg(districts, preview.gdf), caption=text("preview_map", lang))
    west, south, east, north = preview.bounds
    lines = (
        text("preview_count", lang, n=preview.count, layer=layer, existing=preview.existing),
        md_text("preview_crs", lang, crs=preview.crs_name),
        text("preview_extent", lang, west=west, east=east, south=south, north=north),
        text("preview_outside", lang, n=preview.outside),
    )
    right.markdown("\n".join(f"- {line}" for line in lines))
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

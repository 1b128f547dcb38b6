"""The figures' panels: the plan's progress, the statistics per sub-district, the exports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from display.labels import FORMAT_LABELS, progress_cards, progress_html, text
from display.safe import md, short
from geo.errors import RenewalError
from geo.errors import message as message_of
from geo.export import EXPORT_CRS, EXPORT_ENCODINGS, EXPORT_FORMATS, csv_bytes, export_name
from geo.labels import column_label, labelled_table
from geo.precision import DECIMALS, column_unit, round_stats
from geo.statstable import OUTSIDE, TOTAL, chart_columns
from layers import CATALOGUE

from .data import download_of, layers_at, progress_of, stats_of
from .state import Selection, stamp, targets_stamp

__all__ = ["render_export", "render_progress", "render_stats"]

#: Height of a row of the statistics table, CSS pixels.
ROW_PX = 35


def render_progress(sel: Selection) -> None:
    """The plan's figures as cards: target, done, share."""
    frame = progress_of(stamp(sel.source), targets_stamp(sel.source))
    if frame is None:
        return
    st.subheader(text("progress", sel.lang))
    st.markdown(progress_html(progress_cards(frame, sel.lang)), unsafe_allow_html=True)


def render_stats(sel: Selection) -> pd.DataFrame:
    """The statistics table and two charts; returns the table (unrounded) for the export."""
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
    # a row each and a 2 px border: the frame ends at the TOTAL row, with no blank row below
    st.dataframe(
        shown,
        hide_index=True,
        key="stats_table",
        column_config=formats,
        row_height=ROW_PX,
        height=ROW_PX * (len(table) + 1) + 2,
    )
    body = table[~table.index.isin([OUTSIDE, TOTAL])].set_index("district_name")
    charts = chart_columns(table)
    for place, column in zip(st.columns(max(len(charts), 1)), charts, strict=False):
        place.caption(column_label(column, sel.lang))
        place.bar_chart(body[column.name], horizontal=True, sort=False)
    return table


def render_export(sel: Selection, table: pd.DataFrame) -> None:
    """Download buttons: each layer shown, all of them in one file where the format allows, the statistics."""
    lang = sel.lang
    st.subheader(text("export", lang))
    fmt_col, crs_col, enc_col = st.columns(3)
    fmt = fmt_col.selectbox(
        text("export_format", lang),
        EXPORT_FORMATS,
        key="ex_fmt",
        format_func=lambda f: FORMAT_LABELS[f],
        placeholder=text("choose_option", lang),
    )
    crs = crs_col.selectbox(
        text("export_crs", lang),
        EXPORT_CRS,
        key="ex_crs",
        disabled=fmt in ("csv", "xlsx"),
        placeholder=text("choose_option", lang),
    )
    enc = enc_col.selectbox(
        text("export_enc", lang),
        EXPORT_ENCODINGS,
        key="ex_enc",
        disabled=fmt != "shp",
        placeholder=text("choose_option", lang),
    )
    labels = st.checkbox(text("export_labels", lang), key="ex_labels", help=text("export_labels_help", lang))
    key = stamp(sel.source)
    present = tuple(n for n in sel.visible if n in layers_at(key))  # a source may lack a layer of the catalogue
    groups = [(n,) for n in present] + ([present] if fmt in ("gpkg", "shp", "xlsx") else [])
    columns = st.columns(4)
    try:
        for i, names in enumerate(groups):
            name = names[0] if len(names) == 1 else "all"
            label = CATALOGUE[name].label(lang) if name != "all" else text("all_layers", lang)
            columns[i % 4].download_button(
                text("export_layer", lang, layer=label),
                download_of(key, sel.flt, names, fmt, crs, enc, labels),
                file_name=export_name(name, fmt, crs),
                key=f"dl_{name}",
            )
    except RenewalError as exc:
        st.error(md(message_of(exc, lang)))
    stats_table = labelled_table(round_stats(table), "zh") if labels else round_stats(table)
    columns[len(groups) % 4].download_button(
        text("export_stats", lang),
        csv_bytes(stats_table),
        file_name=export_name("stats", "csv", None),
        key="dl_stats",
    )

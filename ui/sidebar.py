"""The sidebar: language, data source, basemap, layers, colours, filters and search.

Returns the :class:`~ui.state.Selection` the other panels draw.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from display.labels import BASEMAP_LABELS, text
from display.safe import short
from geo.errors import RenewalError
from geo.filters import Filter
from geo.settings import BASEMAPS
from geo.store import open_source
from layers import CATALOGUE, LAYER_NAMES, FieldSpec, LayerSpec, units_layer

from .data import layers_of
from .state import LANGUAGES, Selection, effective_source, keep_choices, settings, source_choices, source_label

__all__ = ["FILTERS", "render_sidebar"]

#: (layer, field) pairs offered as filters, as the catalogue declares them.
FILTERS = tuple((spec.name, field) for spec in CATALOGUE.values() for field in spec.filters)


def _field_label(spec: LayerSpec, lang: str, field: str) -> str:
    return spec.field(field).label(lang)


def render_sidebar() -> Selection:
    """Draw the sidebar's choices; what they chose."""
    sb, conf = st.sidebar, settings()
    choice = sb.radio(
        "语言 / Language",
        list(LANGUAGES),
        key="lang_choice",
        horizontal=True,
        index=list(LANGUAGES.values()).index(conf.lang),
        on_change=keep_choices,
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
    if open_source(source).is_database and sb.button(text("db_refresh", lang), key="db_refresh"):
        st.session_state["db_reloads"] = st.session_state.get("db_reloads", 0) + 1
    source_name = source_label(source, lang)
    source = effective_source()
    options = ["none"] if conf.offline else list(BASEMAPS)
    basemap = sb.selectbox(
        text("basemap", lang),
        options,
        key="basemap",
        placeholder=text("choose_option", lang),
        index=options.index(conf.basemap) if conf.basemap in options else 0,
        format_func=lambda b: BASEMAP_LABELS[b][0 if lang == "zh" else 1],
    )
    if conf.offline:
        sb.caption(text("offline", lang))
    if basemap.startswith("tianditu") and not conf.tianditu_key:
        sb.warning(text("basemap_disabled", lang))
        basemap = "none"
    sb.subheader(text("layers", lang))
    for n in LAYER_NAMES:  # the map's layer control sets these too
        st.session_state.setdefault(f"show_{n}", True)
    visible = tuple(n for n in LAYER_NAMES if sb.checkbox(CATALOGUE[n].label(lang), key=f"show_{n}"))
    colour_by: list[tuple[str, str]] = []
    for spec in (s for s in CATALOGUE.values() if s.style.by_options):
        field = sb.selectbox(
            text("colour_by", lang, layer=spec.label(lang)),
            list(spec.colour_fields()),
            key=f"colour_{spec.name}",
            format_func=partial(_field_label, spec, lang),
        )
        if field is not None:
            colour_by.append((spec.name, field))
    box = sb.expander(text("filters", lang), expanded=False)
    units = units_layer()
    try:
        districts = layers_of(source).get(units.name)
    except RenewalError:
        districts = None
    names = {} if districts is None else dict(zip(districts[units.id_field], districts["name"], strict=True))
    chosen = box.multiselect(
        units.label(lang),
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
            format_func=partial(FieldSpec.value_label, f, lang=lang),
            placeholder=text("choose_options", lang),
        )
        values.append((layer, field, tuple(picked)))
    query = sb.text_input(text("search", lang), key="query", placeholder=text("search_hint", lang))
    flt = Filter(tuple(chosen), tuple(values))
    return Selection(lang, source, source_name, basemap, visible, flt, query.strip(), tuple(colour_by), conf)

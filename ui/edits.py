"""The edits panel: change a field of features (signed in), and the history of changes with
the plan's progress month by month."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from display.labels import md_text, text
from display.safe import md, short
from geo.edits import EditConflict, edit_features
from geo.errors import RenewalError
from geo.errors import message as message_of
from geo.history import IMPORT_FIELD
from geo.store import open_source
from layers import CATALOGUE, LAYER_NAMES

from .data import history_of, layers_of, progress_by_month, progress_of
from .signin import current_user
from .state import Selection, reread, stamp, targets_stamp

__all__ = ["render_edits", "render_history"]


def _plain(value: object) -> object:
    """A pandas cell as a plain Python value (None for missing)."""
    return None if pd.isna(value) else value.item() if hasattr(value, "item") else value


def render_edits(sel: Selection) -> None:
    """Change a field of one feature or a selection, recorded in the history."""
    user = current_user(sel.lang, sel.settings)
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
                reread(sel.source)  # the next run shows the values as they are now
            st.error(md(message_of(exc, sel.lang)))
        else:
            reread(sel.source)
            state["edit_sig"] = None
            state["edit_msg"] = md_text("edit_done", sel.lang, n=len(changes), who=user.name)
            st.rerun()  # the map, progress and tables above were drawn before the change


def render_history(sel: Selection) -> None:
    """The latest changes, filtered, and the plan's progress month by month."""
    key = stamp(sel.source)
    try:
        history = history_of(key)
    except RenewalError as exc:  # e.g. a database role that may not read the history: the rest of the page stays
        st.warning(md(open_source(sel.source).mask(message_of(exc, sel.lang, names={sel.source: sel.source_name}))))
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
    plan = progress_of(key, targets_stamp(sel.source))
    if plan is None or (history["field"] == IMPORT_FIELD).all():
        # Imports and publishes replace layers and are not rebuilt: without an edit the line
        # is flat, and for a database it would cost reading every layer into the page.
        return
    monthly = progress_by_month(key)
    labels = {row.Index: (row.label_zh if sel.lang == "zh" else row.label_en) for row in plan.itertuples()}
    target = st.selectbox(
        text("history_target", sel.lang), list(monthly.columns), key="hist_target", format_func=lambda t: labels[t]
    )
    st.line_chart(monthly[target], height=220)

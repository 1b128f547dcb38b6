"""南关城市更新一张图 — the Streamlit app: the page's set-up and the order of its panels.

Run with ``streamlit run app.py``. Each panel is a module of ``ui/``; they call the core
(``geo/``), the map pipeline (``display/``) and the catalogue (``layers/``), and compute
nothing here.
"""

from __future__ import annotations

import streamlit as st

from display.labels import source_title, text
from display.safe import md
from geo.errors import RenewalError
from geo.errors import message as message_of
from geo.oplog import configure
from geo.sessions import SessionFolder, remove_stale_sessions
from geo.store import open_source
from ui.data import info_of, layers_at, stats_of
from ui.edits import render_edits, render_history
from ui.impact import render_conflicts, render_impact
from ui.imports import render_import, render_preview
from ui.mapview import render_map
from ui.server import middleware, report_bug
from ui.sidebar import render_sidebar
from ui.state import Selection, bureau_db, page_lang, settings, stamp
from ui.tables import render_export, render_progress, render_stats


def render_page(sel: Selection) -> None:
    """The panels, top to bottom."""
    key = stamp(sel.source)
    # Read the source before any widget: a source that fails (a database gone) fails here,
    # so the page with the last good data can be drawn after it with the same widget keys.
    layers_at(key)
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


def _show_error(exc: RenewalError, sel: Selection) -> None:
    """One line above the page, naming the source as the planner knows it."""
    shown = message_of(exc, sel.lang, names={sel.source: sel.source_name})
    st.error(text("error_prefix", sel.lang) + md(open_source(sel.source).mask(shown)))


def _database_ready(sel: Selection) -> bool:
    """Check the bureau database before drawing anything; on a fault, show the last good data.

    Returns whether the page can be drawn (from fresh data, or pinned to the last data read
    with a warning that it may be stale).
    """
    try:
        stats_of(stamp(sel.source), sel.flt)
    except RenewalError as exc:
        _show_error(exc, sel)
        good = st.session_state.get("db_good")
        if not (good and good[0] == sel.source and good != stamp(sel.source)):
            return False
        st.warning(text("db_stale", sel.lang))
        st.session_state["db_pinned"] = good
        return True
    st.session_state["db_good"] = stamp(sel.source)
    return True


def render_app() -> None:
    """The sidebar, the title, then the page (or one line saying why it cannot be drawn)."""
    state = st.session_state
    if "started" not in state:  # a new session: clear what sessions of a killed server left
        state["started"] = True
        remove_stale_sessions(settings().session_max_age_h)
    elif isinstance(state.get("workdir"), SessionFolder):
        state["workdir"].touch()
    sel = render_sidebar()
    render_import(st.sidebar.expander(text("import", sel.lang)), sel.lang)
    try:
        title, subtitle = source_title(info_of(stamp(sel.source)), sel.source_name, sel.lang)
    except RenewalError:
        title, subtitle = text("title", sel.lang), ""
    st.title(md(title))
    st.caption(md(subtitle))
    try:
        if not open_source(sel.source).is_database or _database_ready(sel):
            render_page(sel)
    except RenewalError as exc:
        _show_error(exc, sel)
    finally:
        st.session_state.pop("db_pinned", None)


def main() -> None:
    """One run of the page."""
    conf = settings()
    configure(conf.log_file, conf.log_level, secrets=(conf.tianditu_key, bureau_db()))
    st.set_page_config(page_title=text("title", conf.lang), page_icon="🗺️", layout="wide")
    try:
        render_app()
    except Exception as exc:  # a bug, not bad data: the server log keeps the traceback, the page one line
        report_bug(exc, page_lang())


def _uncaught(exc: Exception) -> bool:
    """A bug outside :func:`main` (in a widget's callback): one line too, not Streamlit's display."""
    report_bug(exc, page_lang())
    return True


if __name__ == "__main__":  # a run of the page
    main()
else:  # `streamlit run app.py` imports this file to learn how to serve it: behind ui.server's Guard
    app = st.App(__file__, middleware=middleware(settings()), on_script_error=_uncaught)

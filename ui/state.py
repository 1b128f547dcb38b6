"""The session's small choices: settings, the sidebar's selection, which source is shown.

Only choices live in ``st.session_state`` (a source path, district codes, a language);
data is the caches' (:mod:`ui.data`). Settings are read at each run, never kept in a
module, so a changed environment (a test, a restarted server) is seen at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from display.labels import text
from geo.filters import Filter
from geo.sessions import SessionFolder
from geo.settings import Settings, resolve_source
from geo.store import open_source

__all__ = [
    "CODED_PREFIXES",
    "CODED_WIDGETS",
    "LANGUAGES",
    "Selection",
    "box_source",
    "bureau_db",
    "choice",
    "effective_source",
    "keep_choices",
    "page_lang",
    "reread",
    "session_folder",
    "settings",
    "source_choices",
    "source_label",
    "stamp",
    "targets_stamp",
]

#: The page's languages, as the sidebar names them.
LANGUAGES = {"中文": "zh", "English": "en"}

#: Select boxes whose shown labels follow the language (by key, and by key prefix).
CODED_WIDGETS: tuple[str, ...] = (
    "source", "basemap", "districts", "import_as", "import_crs", "import_enc", "impact_feature",
    "ex_fmt", "ex_crs", "ex_enc", "edit_layer", "edit_ids", "edit_field", "edit_value_code", "hist_target",
)  # fmt: skip
CODED_PREFIXES: tuple[str, ...] = ("f_", "colour_")


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose, and the settings of this run."""

    lang: str
    source: str
    source_name: str
    basemap: str
    visible: tuple[str, ...]
    flt: Filter
    query: str
    colour_by: tuple[tuple[str, str], ...]
    settings: Settings


def settings() -> Settings:
    """The settings of this run, from the environment."""
    return Settings.from_env()


def page_lang() -> str:
    """The page's language: the sidebar's choice (as last sent, before the sidebar is drawn)."""
    return LANGUAGES.get(st.session_state.get("lang_choice", ""), settings().lang)


def bureau_db() -> str:
    """The bureau database's URL: ``NANGUAN_DB_URL``, else ``db_url`` in secrets.toml; may be empty."""
    url = settings().db_url
    if url:
        return url
    try:
        return str(st.secrets.get("db_url", ""))
    except FileNotFoundError:
        return ""


def source_choices() -> list[str]:
    """The sources a planner may choose: the sample, the bureau database, this session's uploads.

    Never a typed path or URL, so a browser user cannot make the server open any file or host.
    """
    choices = [str(resolve_source(settings().source)), bureau_db(), *st.session_state.get("uploads", [])]
    return list(dict.fromkeys(c for c in choices if c))


def source_label(source: str, lang: str) -> str:
    """The source as the page names it: the file's name, or the database with its password masked."""
    opened = open_source(source)
    return f"{text('source_db', lang)} · {opened.mask(opened.location)}" if opened.is_database else opened.name


def stamp(source: str) -> tuple[str, int, int]:
    """A cache key that changes when the data does: a file's time and size; for the database,
    the reload count (a failed reload keeps the last good key, so the page shows that data)."""
    opened = open_source(source)
    if opened.is_database:
        pinned = st.session_state.get("db_pinned")
        return pinned if pinned else (source, st.session_state.get("db_reloads", 0), 0)
    return opened.stamp()


def reread(source: str) -> None:
    """Make the next run read the database again (a file's stamp follows its changes by itself)."""
    if open_source(source).is_database:
        st.session_state["db_reloads"] = st.session_state.get("db_reloads", 0) + 1


def box_source() -> str:
    """The source chosen in the data-source box: one of :func:`source_choices`, whatever a
    request put in the session's state (a crafted path or URL counts as no choice)."""
    chosen, choices = st.session_state.get("source"), source_choices()
    return chosen if chosen in choices else choices[0]


def effective_source() -> str:
    """The session's working copy of the box's source when there is one, else that source."""
    working = st.session_state.get("working")
    if working and not Path(working["path"]).exists():  # its folder was removed, unused too long
        st.session_state.pop("working", None)
        working = None
    return working["path"] if working and working["base"] == box_source() else box_source()


def session_folder() -> Path:
    """This session's own temporary folder (made on first use), marked used."""
    folder = st.session_state.get("workdir")
    if not isinstance(folder, SessionFolder) or not folder.path.is_dir():
        folder = st.session_state["workdir"] = SessionFolder()
    return folder.touch()


def choice(key: str) -> str | None:
    """A select box's choice, None for "auto"."""
    return None if st.session_state.get(key, "auto") == "auto" else st.session_state[key]


def keep_choices() -> None:
    """Keep every select box's choice across a language switch.

    Streamlit sends a choice back as the label it showed; after a switch those labels are
    the other language's and match no option, so a filter would hold words instead of codes
    (and show nothing). Called before the run, while the choices still read as codes, this
    sets them again as codes, which the new run shows in the new language.
    """
    state = st.session_state
    for key in [str(k) for k in state.keys()]:
        if key in CODED_WIDGETS or key.startswith(CODED_PREFIXES):
            state[key] = state[key]


def targets_stamp(source: str) -> tuple[str, int, int]:
    """The stamp of the targets file beside ``source`` (a database has none): the plan's cache key."""
    beside = open_source(source).targets_file()
    return stamp(str(beside)) if beside is not None else ("", 0, 0)

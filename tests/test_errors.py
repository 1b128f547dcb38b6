"""Errors carry a code and parameters; each renders in Chinese and English, naming the user's file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo.errors import MESSAGES, PROBLEMS, RenewalError, SourceError, message
from geo.limits import Limits
from geo.preview import preview_import

from .common import SAMPLE
from .test_importer import BAD_INPUTS

#: Three English words in a row: a sentence the Chinese page must not show.
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){2,}")


def test_every_message_has_both_languages() -> None:
    for code, (en, zh) in {**MESSAGES, **PROBLEMS}.items():
        assert en and zh and not ENGLISH.search(re.sub(r"\{[^}]*\}|`[^`]*`", "", zh)), code


def test_a_sentence_instead_of_a_code_is_shown_as_written() -> None:
    assert message(SourceError("history.db: no change #3"), "zh") == "history.db: no change #3"


def test_file_is_named_as_the_user_knows_it() -> None:
    exc = SourceError("import.empty", file="/srv/session-x/uploads/道路.geojson")
    assert str(exc) == "/srv/session-x/uploads/道路.geojson: the file is empty"
    names = {"/srv/session-x/uploads/道路.geojson": "道路.geojson"}
    assert message(exc, "zh", names=names) == "道路.geojson：文件是空的"
    assert message(exc, "en", names=names) == "道路.geojson: the file is empty"


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_every_import_failure_reads_in_chinese(tmp_path: Path, case: str) -> None:
    """The app's path for an upload: saved in a server folder, previewed, the error shown in Chinese."""
    server = tmp_path / "server-session" / "uploads"
    server.mkdir(parents=True)
    src = BAD_INPUTS[case][0](server)
    layer = "parcels" if "households" in case else "roads"
    from_crs = "EPSG:4326" if case == "swapped axes" else None
    with pytest.raises(RenewalError) as info:
        preview_import(src, layer, base=SAMPLE, from_crs=from_crs, limits=Limits(unzipped_mb=1))
    shown = message(info.value, "zh", names={str(src): src.name})
    assert src.name in shown and str(server) not in shown and "server-session" not in shown, shown
    assert not ENGLISH.search(shown), shown

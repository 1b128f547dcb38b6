"""The README stays true: every command, option and setting is documented."""

from __future__ import annotations

import argparse
import re

import pytest

from cli import build_parser
from geo.settings import SETTINGS, Setting, Settings

from .common import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_setup_and_test_commands() -> None:
    for command in ("pip install -r requirements.txt", "streamlit run app.py", "python -m pytest"):
        assert command in README
    assert "python -m pytest" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_command_and_option_is_documented(name: str) -> None:
    assert f"python -m geo {name} " in README
    for action in subcommands()[name]._actions:
        for option in action.option_strings:
            if option not in ("-h", "--help"):
                assert option in README, f"{name} {option}"


def readme_row(setting: Setting[object]) -> str:
    """The row README's settings table gives ``setting``: its declaration, word for word."""
    default = f"`{setting.default}`" if setting.default else "(empty)"
    return f"| `{setting.name}` | {default} | {setting.help} |"


def test_the_settings_table_is_the_declarations() -> None:
    rows = [line for line in README.splitlines() if re.match(r"\| `(NANGUAN|TIANDITU)_[A-Z0-9_]+` \|", line)]
    assert rows == [readme_row(s) for s in SETTINGS]


def test_settings_from_the_environment() -> None:
    s = Settings.from_env({"NANGUAN_BASEMAP": "gaode", "NANGUAN_LANG": "en", "NANGUAN_MAX_UNZIPPED_MB": "12"})
    assert (s.basemap, s.lang, s.max_unzipped_mb, s.offline) == ("gaode", "en", 12.0, False)
    offline = Settings.from_env({"NANGUAN_BASEMAP": "osm", "NANGUAN_OFFLINE": "1"})
    assert offline.basemap == "none" and offline.offline
    assert Settings.from_env({"NANGUAN_BASEMAP": "google"}).basemap == "osm"
    with pytest.raises(AttributeError):
        s.lang = "zh"  # frozen: one user's choice cannot leak into another's


def test_streamlit_config_leaves_the_map_files_to_the_app_and_sends_no_statistics() -> None:
    config = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    # the map's files come from the packages through the app's middleware, not a folder
    assert "enableStaticServing = false" in config and "gatherUsageStats = false" in config
    assert "maxUploadSize" in config and "server.maxUploadSize" in README

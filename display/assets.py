"""The map's JavaScript and CSS, taken from the XStatic-Leaflet package, never from a CDN.

Municipal intranets are often cut off from the internet, so the app serves Leaflet itself:
:func:`install_static` copies the package's files into the app's git-ignored ``static/``
folder, which Streamlit serves at ``/app/static/``. The standalone HTML export inlines
them instead (:func:`inline_tags`). The map needs Leaflet only: folium's other defaults
(jQuery, Bootstrap, Font Awesome, awesome-markers) are not loaded.
"""

from __future__ import annotations

import base64
import filecmp
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import xstatic.pkg.leaflet as xleaflet

__all__ = ["LEAFLET_DIR", "LEAFLET_VERSION", "SCRIPT", "AssetUrls", "inline_tags", "install_static", "served_urls"]

LEAFLET_DIR = Path(xleaflet.BASE_DIR)
LEAFLET_VERSION: str = xleaflet.VERSION
_FILES = ("leaflet.js", "leaflet.css")
#: The project's own map script, copied beside Leaflet (``static/nanguan/map.js``).
SCRIPT = Path(__file__).resolve().parent / "map.js"


@dataclass(frozen=True)
class AssetUrls:
    """Where the browser loads Leaflet from.

    Attributes
    ----------
    js, css : str
        URLs of ``leaflet.js`` and ``leaflet.css``.
    images : str
        URL of the folder of Leaflet's images, ending in ``/``.
    """

    js: str
    css: str
    images: str


def served_urls(prefix: str = "/app/static/leaflet") -> AssetUrls:
    """The URLs of the files :func:`install_static` copied, as Streamlit serves them."""
    return AssetUrls(f"{prefix}/leaflet.js", f"{prefix}/leaflet.css", f"{prefix}/images/")


def install_static(static_dir: Path) -> AssetUrls:
    """Copy Leaflet into ``static_dir/leaflet`` and the map script into ``static_dir/nanguan``
    (once; unchanged files are not rewritten)."""
    target = static_dir / "leaflet"
    (target / "images").mkdir(parents=True, exist_ok=True)
    (static_dir / "nanguan").mkdir(exist_ok=True)
    sources = [LEAFLET_DIR / name for name in _FILES] + sorted((LEAFLET_DIR / "images").glob("*.png"))
    copies = [(src, target / src.relative_to(LEAFLET_DIR)) for src in sources]
    for src, dst in [*copies, (SCRIPT, static_dir / "nanguan" / "map.js")]:
        if not dst.exists() or not filecmp.cmp(src, dst, shallow=False):
            shutil.copyfile(src, dst)
    return served_urls()


def _css_with_inline_images() -> str:
    css = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        png = (LEAFLET_DIR / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


def inline_tags() -> str:
    """``<style>`` and ``<script>`` tags holding Leaflet, for a page that works with no server."""
    js = (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    return f"<style>{_css_with_inline_images()}</style>\n<script>{js}</script>"

"""Settings of the renewal map, in one immutable place.

Each setting has a default and may be overridden by an environment variable of the same
name. ``Settings.from_env()`` reads them once; nothing changes them afterwards, so one
Streamlit user's choices cannot leak into another's. ``SETTINGS`` below is the table the
README documents (a test checks that every entry is there).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TypeVar

from .limits import Limits

__all__ = [
    "BASEMAPS",
    "LOG_LEVELS",
    "PROJECT_ROOT",
    "SETTINGS",
    "Network",
    "Setting",
    "Settings",
    "parse_networks",
    "resolve_source",
]

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_N = TypeVar("_N", int, float)
#: An address or a range of them (``10.0.0.2``, ``10.0.0.0/24``, ``::1``).
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

BASEMAPS: tuple[str, ...] = ("none", "osm", "tianditu_vec", "tianditu_img", "gaode")
#: Levels of the operation log: every operation, failed ones only, none.
LOG_LEVELS: tuple[str, ...] = ("INFO", "WARNING", "OFF")


@dataclass(frozen=True)
class Setting:
    """One documented setting: environment variable, default, help text."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "NANGUAN_SOURCE",
        str(Path("data") / "nanguan.gpkg"),
        "Data source shown first: a GeoPackage path (relative paths from the working or project folder).",
    ),
    Setting(
        "NANGUAN_DB_URL",
        "",
        "The bureau's PostGIS database offered as a source in the app (else db_url in .streamlit/secrets.toml).",
    ),
    Setting(
        "NANGUAN_TARGETS",
        "",
        "A targets file for every source; empty: each source's own (its dataset_info or <name>.targets.toml).",
    ),
    Setting("NANGUAN_BASEMAP", "osm", f"Basemap shown first: one of {', '.join(BASEMAPS)}."),
    Setting(
        "NANGUAN_OFFLINE",
        "0",
        "1 for machines without internet: the basemap becomes 'none' and tile basemaps are hidden.",
    ),
    Setting("TIANDITU_KEY", "", "Key of the 天地图 (Tianditu) tile service; its basemaps are disabled without one."),
    Setting("NANGUAN_LANG", "zh", "Interface language first shown: zh or en."),
    Setting(
        "NANGUAN_MAP_FEATURES",
        "20000",
        "Most features the map draws at once; above it the map draws what is in view, simplified for the zoom.",
    ),
    Setting("NANGUAN_DEBUG", "0", "1: the command line shows tracebacks of unexpected errors."),
    Setting(
        "NANGUAN_AUTH_HEADER",
        "",
        "Name of the request header in which the intranet's reverse proxy passes the signed-in user "
        "(editing is then allowed as that user); empty: off. Honoured only from NANGUAN_TRUSTED_PROXIES.",
    ),
    Setting(
        "NANGUAN_TRUSTED_PROXIES",
        "",
        "Addresses (IPs or CIDR ranges, comma-separated) of the reverse proxies whose NANGUAN_AUTH_HEADER is "
        "believed; from any other address the header is ignored. Empty: from none.",
    ),
    Setting(
        "NANGUAN_SIGNIN_MAX_AGE_H",
        "8",
        "Hours a password sign-in lasts; a session is also signed out when another browser or address takes it up.",
    ),
    Setting(
        "NANGUAN_SIGNIN_DELAY_MAX_S",
        "900",
        "Longest wait, in seconds, after failed sign-ins: the wait starts at 1 s and doubles with each failure "
        "of a user name or from an address.",
    ),
    Setting(
        "NANGUAN_FRAME_ANCESTORS",
        "'self'",
        "Pages that may show the app in a frame, as CSP frame-ancestors sources (e.g. 'self' https://portal.example); "
        "other sites cannot frame it.",
    ),
    Setting("NANGUAN_METRICS", "0", "1: serve Streamlit's /_stcore/metrics (off: it answers 404)."),
    Setting(
        "NANGUAN_SESSION_UPLOADS_MB",
        "250",
        "Most megabytes of uploads one session may hold in the server's memory at once; more is refused (HTTP 413).",
    ),
    Setting(
        "NANGUAN_UPLOADS_MB",
        "1000",
        "Most megabytes of uploads all sessions together may hold in the server's memory; more is refused (HTTP 413).",
    ),
    Setting(
        "NANGUAN_OVERLAP_TOLERANCE_M2",
        "1",
        "Largest overlap of two sub-districts accepted by the statistics, in m²; larger overlaps are refused.",
    ),
    Setting(
        "NANGUAN_DB_WRITE_IDLE_S",
        "60",
        "Seconds a publish or database import may sit idle inside its transaction before the server "
        "ends it (nothing changes): a frozen or cut-off writer does not block the readers longer.",
    ),
    Setting(
        "NANGUAN_LOG_FILE",
        "",
        "Where the operation log goes (one JSON line per import, export, publish, edit and undo): "
        "a file (appended), or - for standard error; empty: nowhere, but python -m geo -v shows it.",
    ),
    Setting("NANGUAN_LOG_LEVEL", "INFO", "INFO logs every operation; WARNING only the failed ones; OFF none."),
    Setting(
        "NANGUAN_SESSION_MAX_AGE_H",
        "24",
        "Hours after its last use that an app session's temporary folder (uploads, working copy) is removed "
        "by the next session to start, should its own end not have removed it.",
    ),
    Setting(
        "NANGUAN_MAX_UNZIPPED_MB",
        "500",
        "Largest uncompressed size of an imported archive, in MB; larger archives are refused before extraction.",
    ),
    Setting(
        "NANGUAN_MAX_UPLOAD_MB",
        "200",
        "Largest file an import reads, in MB; keep the app's server.maxUploadSize no larger.",
    ),
    Setting(
        "NANGUAN_MAX_ZIP_RATIO",
        "100",
        "Most times an imported archive may expand (uncompressed total / archive size); above it, a zip bomb.",
    ),
    Setting(
        "NANGUAN_MAX_FEATURES",
        "500000",
        "Most features in an imported file; counted before the features are read.",
    ),
    Setting(
        "NANGUAN_DATE_MIN",
        "1949-01-01",
        "Earliest date a change may carry (YYYY-MM-DD): edits, imports and histories with an earlier one are refused.",
    ),
    Setting(
        "NANGUAN_DATE_MAX",
        "",
        "Latest date a change may carry (YYYY-MM-DD); empty: the last day of next year.",
    ),
    Setting(
        "NANGUAN_MAX_VERTICES",
        "100000",
        "Most vertices of one imported feature; checked before any geometry is validated or measured.",
    ),
)


@dataclass(frozen=True)
class Settings:
    """The effective settings (defaults overridden by the environment).

    Attributes
    ----------
    source : str
        Default data source, as written (see :func:`resolve_source`).
    targets : Path or None
        A plan-target file overriding every source's own; None to use the source's.
    basemap : str
        First basemap shown; ``"none"`` when offline.
    offline : bool
        Whether tile basemaps are hidden.
    tianditu_key : str
        Tianditu key, empty when not set.
    lang : str
        ``"zh"`` or ``"en"``.
    max_unzipped_mb : float
        Archive size limit in MB.
    max_upload_mb : float
        Largest file an import reads, MB.
    max_zip_ratio : float
        Most times an archive may expand.
    max_features : int
        Most features in an imported file.
    max_vertices : int
        Most vertices of one imported feature.
    overlap_tolerance_m2 : float
        Largest overlap of two sub-districts accepted, m².
    auth_header : str
        Request header naming the signed-in user, set by a trusted reverse proxy; empty: off.
    map_features : int
        The map's feature budget: most features drawn at once.
    debug : bool
        Whether the command line shows tracebacks of unexpected errors.
    db_url : str
        The bureau database's URL, empty when not configured. Holds a password: never show
        it unmasked.
    log_file : str
        Where the operation log goes (:mod:`geo.oplog`): a file, ``-`` for standard error,
        or empty.
    log_level : str
        ``INFO``, ``WARNING`` or ``OFF``.
    db_write_idle_s : float
        Seconds a writing database transaction may sit idle before the server ends it.
    session_max_age_h : float
        Hours after its last use that a session's temporary folder is removed by a newer session.
    trusted_proxies : tuple of Network
        Addresses of the reverse proxies whose ``auth_header`` is believed.
    signin_max_age_h : float
        Hours a password sign-in lasts.
    signin_delay_max_s : float
        Longest wait after failed sign-ins, seconds.
    frame_ancestors : str
        CSP ``frame-ancestors`` sources: the pages that may frame the app.
    metrics : bool
        Whether Streamlit's metrics endpoint is served.
    session_uploads_mb, uploads_mb : float
        Upload bytes, in MB, one session and all of them may hold in memory.
    date_min, date_max : date
        The span of dates a recorded change may carry (both days included).
    """

    source: str
    targets: Path | None
    basemap: str
    offline: bool
    tianditu_key: str
    lang: str
    max_unzipped_mb: float
    debug: bool = False
    overlap_tolerance_m2: float = 1.0
    auth_header: str = ""
    map_features: int = 20_000
    max_upload_mb: float = Limits.upload_mb
    max_zip_ratio: float = Limits.zip_ratio
    max_features: int = Limits.features
    max_vertices: int = Limits.vertices
    db_url: str = field(default="", repr=False)
    log_file: str = ""
    log_level: str = "INFO"
    db_write_idle_s: float = 60.0
    session_max_age_h: float = 24.0
    date_min: dt.date = dt.date(1949, 1, 1)
    date_max: dt.date = field(default_factory=lambda: _end_of_next_year())
    trusted_proxies: tuple[Network, ...] = ()
    signin_max_age_h: float = 8.0
    signin_delay_max_s: float = 900.0
    frame_ancestors: str = "'self'"
    metrics: bool = False
    session_uploads_mb: float = 250.0
    uploads_mb: float = 1000.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        raw = {s.name: env.get(s.name, s.default) for s in SETTINGS}
        offline = raw["NANGUAN_OFFLINE"].strip().lower() in ("1", "true", "yes", "on")
        basemap = raw["NANGUAN_BASEMAP"].strip().lower()
        if basemap not in BASEMAPS:
            basemap = "osm"
        if offline:
            basemap = "none"
        source = raw["NANGUAN_SOURCE"]
        targets = Path(raw["NANGUAN_TARGETS"]) if raw["NANGUAN_TARGETS"].strip() else None
        if targets is not None and not targets.is_absolute():
            targets = PROJECT_ROOT / targets
        max_mb = _number(raw, "NANGUAN_MAX_UNZIPPED_MB", float)
        try:
            tolerance = max(0.0, float(raw["NANGUAN_OVERLAP_TOLERANCE_M2"]))
        except ValueError:
            tolerance = 1.0
        level = raw["NANGUAN_LOG_LEVEL"].strip().upper()
        try:
            idle_s = float(raw["NANGUAN_DB_WRITE_IDLE_S"])
        except ValueError:
            idle_s = 60.0
        lang = "en" if raw["NANGUAN_LANG"].strip().lower().startswith("en") else "zh"
        debug = raw["NANGUAN_DEBUG"].strip() == "1"
        try:
            map_features = max(1, int(raw["NANGUAN_MAP_FEATURES"]))
        except ValueError:
            map_features = 20_000
        try:
            session_max_age_h = max(0.0, float(raw["NANGUAN_SESSION_MAX_AGE_H"]))
        except ValueError:
            session_max_age_h = 24.0
        return cls(
            source,
            targets,
            basemap,
            offline,
            raw["TIANDITU_KEY"].strip(),
            lang,
            max_mb,
            debug,
            overlap_tolerance_m2=tolerance,
            auth_header=raw["NANGUAN_AUTH_HEADER"].strip(),
            db_url=raw["NANGUAN_DB_URL"].strip(),
            map_features=map_features,
            session_max_age_h=session_max_age_h,
            log_file=raw["NANGUAN_LOG_FILE"].strip(),
            log_level=level if level in LOG_LEVELS else "INFO",
            db_write_idle_s=idle_s if 0 < idle_s < 1e6 else 60.0,
            max_upload_mb=_number(raw, "NANGUAN_MAX_UPLOAD_MB", float),
            max_zip_ratio=_number(raw, "NANGUAN_MAX_ZIP_RATIO", float),
            max_features=_number(raw, "NANGUAN_MAX_FEATURES", int),
            max_vertices=_number(raw, "NANGUAN_MAX_VERTICES", int),
            date_min=_day(raw["NANGUAN_DATE_MIN"], dt.date(1949, 1, 1)),
            date_max=_day(raw["NANGUAN_DATE_MAX"], _end_of_next_year()),
            trusted_proxies=parse_networks(raw["NANGUAN_TRUSTED_PROXIES"]),
            signin_max_age_h=_number(raw, "NANGUAN_SIGNIN_MAX_AGE_H", float),
            signin_delay_max_s=_number(raw, "NANGUAN_SIGNIN_DELAY_MAX_S", float),
            frame_ancestors=_sources(raw["NANGUAN_FRAME_ANCESTORS"]),
            metrics=raw["NANGUAN_METRICS"].strip() == "1",
            session_uploads_mb=_number(raw, "NANGUAN_SESSION_UPLOADS_MB", float),
            uploads_mb=_number(raw, "NANGUAN_UPLOADS_MB", float),
        )

    @property
    def limits(self) -> Limits:
        """The import limits these settings set."""
        return Limits(
            upload_mb=self.max_upload_mb,
            unzipped_mb=self.max_unzipped_mb,
            zip_ratio=self.max_zip_ratio,
            features=self.max_features,
            vertices=self.max_vertices,
        )

    def names(self) -> tuple[str, ...]:
        """Attribute names, for tests and documentation."""
        return tuple(f.name for f in fields(self))


def _number(raw: Mapping[str, str], name: str, kind: type[_N]) -> _N:
    """A positive limit from the environment; its default when the value is not one."""
    default = kind(next(s.default for s in SETTINGS if s.name == name))
    try:
        value = kind(raw[name])
    except ValueError:
        return default
    return value if value > 0 else default


def _end_of_next_year() -> dt.date:
    return dt.date(dt.datetime.now(dt.UTC).year + 1, 12, 31)


def _day(text: str, default: dt.date) -> dt.date:
    """A ``YYYY-MM-DD`` setting; its default when empty or not a date."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return default


def _sources(text: str) -> str:
    """CSP sources as one header value: printable ASCII, one space apart, no ``;`` (which
    would start another directive); ``'self'`` when nothing is left."""
    kept = "".join(c if " " < c <= "~" and c not in ";," else " " for c in text)
    return " ".join(kept.split()) or "'self'"


def parse_networks(text: str) -> tuple[Network, ...]:
    """The addresses and CIDR ranges of a comma- or space-separated list; an entry that is
    neither (a host name, a typo) is left out with a warning, so it trusts nothing."""
    networks = []
    for entry in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            log.warning("not an IP address or CIDR range, ignored: %r", entry)
    return tuple(networks)


def resolve_source(source: str) -> str | Path:
    """Where a source really is: URLs and absolute paths as given; a relative path from
    the working folder when it exists there, else from the project folder."""
    if "://" in source or Path(source).is_absolute() or Path(source).exists():
        return source if "://" in source else Path(source)
    return PROJECT_ROOT / source

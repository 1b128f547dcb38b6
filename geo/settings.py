"""Settings of the renewal map, in one immutable place.

Each setting is declared once, as a field of :class:`Settings`: its environment variable,
its default as written there, its help (the words of README's settings table, which a
test keeps equal) and how its text is read. ``Settings.from_env()`` reads them once;
nothing changes them afterwards, so one Streamlit user's choices cannot leak into
another's. ``SETTINGS`` lists the declarations in that order, for the README and
``python -m geo settings``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

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


def _project_root() -> Path:
    """The folder of ``app.py``, ``.streamlit/config.toml`` and ``data/``: the checkout
    above the packages, or, installed, the ``nanguan`` folder beside them."""
    above = Path(__file__).resolve().parent.parent
    installed = above / "nanguan"
    return installed if (installed / "app.py").is_file() else above


PROJECT_ROOT = _project_root()

_T = TypeVar("_T")
_N = TypeVar("_N", int, float)
#: An address or a range of them (``10.0.0.2``, ``10.0.0.0/24``, ``::1``).
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

BASEMAPS: tuple[str, ...] = ("none", "osm", "tianditu_vec", "tianditu_img", "gaode")
#: Levels of the operation log: every operation, failed ones only, none.
LOG_LEVELS: tuple[str, ...] = ("INFO", "WARNING", "OFF")


@dataclass(frozen=True)
class Setting(Generic[_T]):
    """One documented setting.

    Attributes
    ----------
    name : str
        The environment variable.
    default : str
        Its default, as it would be written there (empty: unset).
    help : str
        What it does, in README's words.
    parse : callable
        Text to value; a ``ValueError`` means the text is not one, and the default holds.
    secret : bool
        Whether its value is never shown (a password, a key).
    """

    name: str
    default: str
    help: str
    parse: Callable[[str], _T] = field(repr=False, compare=False)
    secret: bool = False

    def read(self, env: Mapping[str, str]) -> _T:
        """The value ``env`` gives it; the default's where the text is not one."""
        try:
            return self.parse(env.get(self.name, self.default))
        except ValueError:
            return self.parse(self.default)

    def valid(self, text: str) -> bool:
        """Whether ``text`` is a value of this setting (else its default holds)."""
        try:
            self.parse(text)
        except ValueError:
            return False
        return True


def _setting(name: str, default: str, help: str, parse: Callable[[str], _T], *, secret: bool = False) -> _T:
    """A field of :class:`Settings` declared by its :class:`Setting`."""
    spec = Setting(name, default, help, parse, secret)
    return field(default_factory=lambda: spec.read({}), repr=not secret, metadata={"setting": spec})


def _text(text: str) -> str:
    return text.strip()


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _one_of(choices: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().upper() if upper else text.strip().lower()
        if value not in choices:
            raise ValueError(f"not one of {choices}: {text!r}")
        return value

    return parse


def _lang(text: str) -> str:
    return "en" if text.strip().lower().startswith("en") else "zh"


def _positive(kind: type[_N], *, below: float = float("inf")) -> Callable[[str], _N]:
    """A number above 0 (and below ``below``)."""

    def parse(text: str) -> _N:
        value = kind(text)
        if not 0 < value < below:
            raise ValueError(f"not a number above 0 and below {below}: {text!r}")
        return value

    return parse


def _at_least(kind: type[_N], low: _N) -> Callable[[str], _N]:
    """A number, raised to ``low`` when smaller."""

    def parse(text: str) -> _N:
        value = kind(text)
        if value != value:  # NaN
            raise ValueError("not a number: nan")
        return max(low, value)

    return parse


def _targets(text: str) -> Path | None:
    if not text.strip():
        return None
    path = Path(text)
    return path if path.is_absolute() else PROJECT_ROOT / path


def _end_of_next_year() -> dt.date:
    return dt.date(dt.datetime.now(dt.UTC).year + 1, 12, 31)


def _day(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` day."""
    return dt.date.fromisoformat(text.strip())


def _day_or_next_year(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` day; empty: the last day of next year."""
    return _day(text) if text.strip() else _end_of_next_year()


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


@dataclass(frozen=True)
class Settings:
    """The effective settings (defaults overridden by the environment).

    Every field is one setting: its type is the attribute's, its variable, default and
    help are in its declaration (``SETTINGS`` lists them). Numbers that are not numbers,
    or out of their range, keep their default; sizes are in MB, ages in hours, waits in
    seconds, as the names say. ``basemap`` is ``"none"`` when ``offline``. ``db_url``
    holds a password and ``tianditu_key`` a key: neither is shown in the ``repr``.
    """

    source: str = _setting(
        "NANGUAN_SOURCE", str(Path("data") / "nanguan.gpkg"), "data source shown first: a GeoPackage path", str
    )
    db_url: str = _setting(
        "NANGUAN_DB_URL",
        "",
        "the bureau's PostGIS database offered as a source in the app (`postgresql://…?schema=…`); "
        "else `db_url` in `.streamlit/secrets.toml`",
        _text,
        secret=True,
    )
    targets: Path | None = _setting(
        "NANGUAN_TARGETS",
        "",
        "a targets file used for every source; empty: each source's own plan (see [Plan targets](#plan-targets))",
        _targets,
    )
    basemap: str = _setting(
        "NANGUAN_BASEMAP", "osm", "first basemap: " + ", ".join(f"`{b}`" for b in BASEMAPS), _one_of(BASEMAPS)
    )
    offline: bool = _setting(
        "NANGUAN_OFFLINE", "0", "`1` on machines with no internet: basemap `none`, tile basemaps hidden", _flag
    )
    tianditu_key: str = _setting(
        "TIANDITU_KEY", "", "key of the 天地图 tile service; its basemaps are disabled without one", _text, secret=True
    )
    lang: str = _setting("NANGUAN_LANG", "zh", "interface language first shown: `zh` or `en`", _lang)
    session_max_age_h: float = _setting(
        "NANGUAN_SESSION_MAX_AGE_H",
        "24",
        "hours after its last use that an app session's temporary folder (`nanguan-session-…`: its uploads and "
        "working copy) is removed by the next session to start; a session's folder is otherwise removed when the "
        "session ends or the server stops",
        _at_least(float, 0.0),
    )
    max_unzipped_mb: float = _setting(
        "NANGUAN_MAX_UNZIPPED_MB", "500", "largest uncompressed size of an imported archive, MB", _positive(float)
    )
    max_upload_mb: float = _setting(
        "NANGUAN_MAX_UPLOAD_MB",
        "200",
        "largest file an import reads (an upload, or a file given to `geo import`/`validate`), MB; "
        "keep `server.maxUploadSize` no larger",
        _positive(float),
    )
    max_zip_ratio: float = _setting(
        "NANGUAN_MAX_ZIP_RATIO",
        "100",
        "most times an imported archive may expand (uncompressed total / archive size); above it the archive is "
        "refused as a zip bomb",
        _positive(float),
    )
    max_features: int = _setting(
        "NANGUAN_MAX_FEATURES", "500000", "most features in an imported file, counted before they are read", _positive(int)
    )
    date_min: dt.date = _setting(
        "NANGUAN_DATE_MIN",
        "1949-01-01",
        "earliest date a change may carry: an edit dated before it (a year typed `0202` for `2020`, or `1920`) is "
        "refused, and a history holding one is not used (the first bad change named)",
        _day,
    )
    date_max: dt.date = _setting(
        "NANGUAN_DATE_MAX", "", "latest date a change may carry; empty: the last day of next year", _day_or_next_year
    )
    max_vertices: int = _setting(
        "NANGUAN_MAX_VERTICES",
        "100000",
        "most vertices of one imported feature, checked before any geometry is validated or measured",
        _positive(int),
    )
    auth_header: str = _setting(
        "NANGUAN_AUTH_HEADER",
        "",
        "request header in which the intranet's reverse proxy passes the signed-in user; editing is then allowed "
        "as that user. Believed only from `NANGUAN_TRUSTED_PROXIES`, and only when it comes once: set it behind a "
        "proxy that overwrites the header on every request (see [Running it for others](#running-it-for-others))",
        _text,
    )
    trusted_proxies: tuple[Network, ...] = _setting(
        "NANGUAN_TRUSTED_PROXIES",
        "",
        "addresses of the reverse proxies whose `NANGUAN_AUTH_HEADER` is believed: IPs or CIDR ranges, "
        "comma-separated (`127.0.0.1`, `10.8.0.0/24`); from any other address the header is ignored. Empty: from none",
        parse_networks,
    )
    signin_max_age_h: float = _setting(
        "NANGUAN_SIGNIN_MAX_AGE_H",
        "8",
        "hours a password sign-in in the app lasts; it also ends when another browser or address takes the session up",
        _positive(float),
    )
    signin_delay_max_s: float = _setting(
        "NANGUAN_SIGNIN_DELAY_MAX_S",
        "900",
        "longest wait after failed sign-ins, seconds: the wait starts at 1 s and doubles with each failure of a "
        "user name or from an address",
        _positive(float),
    )
    frame_ancestors: str = _setting(
        "NANGUAN_FRAME_ANCESTORS",
        "'self'",
        "the pages that may show the app in a frame, as CSP `frame-ancestors` sources "
        "(`'self' https://portal.bureau.local` for an intranet portal); every other site is refused",
        _sources,
    )
    metrics: bool = _setting(
        "NANGUAN_METRICS", "0", "`1`: serve Streamlit's `/_stcore/metrics`; otherwise it answers 404", _flag
    )
    session_uploads_mb: float = _setting(
        "NANGUAN_SESSION_UPLOADS_MB",
        "250",
        "most megabytes of uploaded files one session may hold in the server's memory at once (Streamlit keeps "
        "every upload until its widget lets it go or the session ends); an upload past it is refused with HTTP 413 "
        "before its body is read",
        _positive(float),
    )
    uploads_mb: float = _setting(
        "NANGUAN_UPLOADS_MB",
        "1000",
        "the same for all sessions together, so a few visitors cannot take the server's memory",
        _positive(float),
    )
    overlap_tolerance_m2: float = _setting(
        "NANGUAN_OVERLAP_TOLERANCE_M2",
        "1",
        "largest overlap of two sub-districts the statistics accept, m²; larger ones are refused",
        _at_least(float, 0.0),
    )
    map_features: int = _setting(
        "NANGUAN_MAP_FEATURES",
        "20000",
        "the map's feature budget: most features drawn at once; above it the map draws the features in view "
        "(simplified for the zoom, the largest first) and says on the map how many of how many it shows",
        _at_least(int, 1),
    )
    debug: bool = _setting(
        "NANGUAN_DEBUG", "0", "`1`: the command line shows tracebacks of unexpected errors", _flag
    )
    db_write_idle_s: float = _setting(
        "NANGUAN_DB_WRITE_IDLE_S",
        "60",
        "seconds a publish or `import --into` a database may sit idle inside its transaction before the server ends "
        "it, changing nothing: a writer that froze or lost its network does not keep the readers waiting longer "
        "(a killed one is noticed at once)",
        _positive(float, below=1e6),
    )
    log_file: str = _setting(
        "NANGUAN_LOG_FILE",
        "",
        "where the [operation log](#operation-log) goes: a file (appended, UTF-8), or `-` for standard error; "
        "empty: nowhere, except that `python -m geo -v` shows it on standard error",
        _text,
    )
    log_level: str = _setting(
        "NANGUAN_LOG_LEVEL",
        "INFO",
        "`INFO` logs every operation, `WARNING` only the failed ones, `OFF` none",
        _one_of(LOG_LEVELS, upper=True),
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        read = cls(**{f.name: f.metadata["setting"].read(env) for f in fields(cls)})
        return replace(read, basemap="none") if read.offline else read

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

    @classmethod
    def declaration(cls, attribute: str) -> Setting[Any]:
        """The declaration of the setting held in ``attribute`` (its variable, default, help)."""
        return next(f.metadata["setting"] for f in fields(cls) if f.name == attribute)

    def names(self) -> tuple[str, ...]:
        """Attribute names, for tests and documentation."""
        return tuple(f.name for f in fields(self))


#: Every setting's declaration, in the order of README's table.
SETTINGS: tuple[Setting[Any], ...] = tuple(f.metadata["setting"] for f in fields(Settings))


def resolve_source(source: str) -> str | Path:
    """Where a source really is: URLs and absolute paths as given; a relative path from
    the working folder when it exists there, else from the project folder."""
    if "://" in source or Path(source).is_absolute() or Path(source).exists():
        return source if "://" in source else Path(source)
    return PROJECT_ROOT / source

"""Every setting of Dialogkarta declared once: name, type, default and help.

``create_app`` takes the code defaults from here, lets ``DIALOGKARTA_<NAME>`` environment
variables (or a test config) override them, and calls :func:`validated` so that every value a
view reads is already of its declared type. ``dialogkarta settings`` prints the table, and a
test holds the README's configuration table to the same names. Flask's own keys that are not
meant to be configured (Babel domains, cookie flags we never relax) stay in ``webmap/app.py``.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class SettingsError(ValueError):
    """One or more settings have values that cannot be used; the text names each one."""


def parse_limits(text: str) -> list[tuple[int, float]]:
    """Return ``[(count, seconds), ...]`` for a rate-limit text such as ``"10/minute;60/hour"``."""
    limits = []
    for part in str(text).split(";"):
        part = part.strip()
        if not part:
            continue
        count, _, period = part.partition("/")
        try:
            seconds = PERIODS[period.strip()] if period.strip() in PERIODS else float(period)
            limits.append((int(count), seconds))
        except ValueError:
            raise ValueError(f"rate limit {part!r}: expected 'count/period', e.g. '10/minute'") from None
        if limits[-1][0] < 1 or not 0 < limits[-1][1] < 10 * 365 * 86400:
            raise ValueError(f"rate limit {part!r}: count and period must be positive")
    return limits


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _integer(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(value)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def _text(value: Any) -> str:
    return str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _rate_limits(value: Any) -> str:
    parse_limits(value)
    return str(value)


def _hosts(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    hosts = [str(item).strip() for item in items if str(item).strip()]
    if not hosts:
        raise ValueError("expected host names, e.g. dialog.lund.se,127.0.0.1")
    return hosts


def _languages(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None  # not set: the locality's own list applies
    items = value.split(",") if isinstance(value, str) else list(value)
    languages = [str(item).strip() for item in items if str(item).strip()]
    if not languages:
        raise ValueError("expected at least one language code, e.g. sv,en")
    return languages


def _tile_url(value: Any) -> str:
    # The page's Content-Security-Policy lets images come from this site and from the tile server's
    # origin only, so a tile address has to name both a scheme and a host, or neither (a path here).
    text = str(value)
    parts = urlsplit(text.replace("{s}", "a"))
    if (parts.scheme in {"http", "https"} and parts.netloc) or (not parts.scheme and not parts.netloc and text.startswith("/")):
        return text
    raise ValueError(
        f"expected an http(s) address with a host, e.g. https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png, "
        f"or a path on this site, e.g. /tiles/{{z}}/{{x}}/{{y}}.png; got {value!r}"
    )


def _redis_url(value: Any) -> str | None:
    # Checked at start so that a wrong address or a missing client stops the app rather than every
    # limited request; the message names the scheme only, since the address may hold a password.
    if value is None or value == "":
        return None
    scheme = urlsplit(str(value)).scheme
    if scheme not in {"redis", "rediss", "unix"}:
        raise ValueError(
            f"expected redis://host:port/db, rediss://... or unix:///path.sock; got an address with scheme {scheme!r}"
        )
    if importlib.util.find_spec("redis") is None:
        raise ValueError("needs the redis package: pip install 'dialogkarta[redis]'")
    return str(value)


KINDS: dict[str, Callable[[Any], Any]] = {
    "bool": _boolean,
    "int": _integer,
    "number": _number,
    "text": _text,
    "optional text": _optional_text,
    "rate limits": _rate_limits,
    "languages": _languages,
    "hosts": _hosts,
    "tile url": _tile_url,
    "redis url": _redis_url,
}


@dataclass(frozen=True)
class Setting:
    """One setting: its name without the ``DIALOGKARTA_`` prefix, kind, default, help and bounds."""

    name: str
    kind: str
    default: Any
    help: str
    secret: bool = False
    minimum: float | None = None
    maximum: float | None = None

    @property
    def variable(self) -> str:
        return f"DIALOGKARTA_{self.name}"

    def parse(self, value: Any) -> Any:
        """Return ``value`` as this setting's kind, or raise ``ValueError`` saying what is wrong."""
        if value is None and (self.default is None or self.kind == "optional text"):
            return None
        parsed = KINDS[self.kind](value)
        if self.minimum is not None and parsed < self.minimum:
            raise ValueError(f"must be at least {self.minimum:g}, got {value!r}")
        if self.maximum is not None and parsed > self.maximum:
            raise ValueError(f"must be at most {self.maximum:g}, got {value!r}")
        return parsed


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "optional text",
        None,
        "SQLAlchemy URL of the store; default sqlite:///<instance>/dialogkarta.sqlite (PostgreSQL works too)",
        secret=True,
    ),
    Setting(
        "INSTANCE_PATH",
        "optional text",
        None,
        "folder for the database, secret key and imported layers; default Flask's instance folder",
    ),
    Setting(
        "LOCALITY_DIR", "optional text", None, "the locality folder (locality.toml + layers); default the bundled Dalby data"
    ),
    Setting(
        "LAYER_OVERRIDE_DIR",
        "optional text",
        None,
        "upload work folders, and where earlier releases kept imported layers; default <instance>/layers",
    ),
    Setting(
        "LAYER_UPLOAD_MAX_BYTES", "int", 500 * 1024 * 1024, "largest plan layer the admin page /planner/layers accepts", minimum=1
    ),
    Setting("LAYER_MAX_FEATURES", "int", 50_000, "an imported plan layer with more features is refused", minimum=1),
    Setting("LAYER_MAX_VERTICES", "int", 1_000_000, "an imported plan layer with more vertices in all is refused", minimum=1),
    Setting(
        "SECRET_KEY",
        "optional text",
        None,
        "signs sessions and CSRF tokens; default generated once into <instance>/secret_key",
        secret=True,
    ),
    Setting(
        "SERVERS",
        "int",
        1,
        "app servers (machines or instance folders) sharing one store; above 1 the app refuses to start "
        "without an explicit SECRET_KEY, DATABASE_URL and PHOTO_DIR",
        minimum=1,
        maximum=1000,
    ),
    Setting(
        "TILE_URL",
        "tile url",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "basemap tiles: an http(s) address with {z}/{x}/{y} (and {s}), or a path on this site; "
        "the map works with every tile failing",
    ),
    Setting("TILE_ATTRIBUTION", "text", "© OpenStreetMap contributors", "shown with the tiles"),
    Setting("RATELIMIT_ENABLED", "bool", True, "per-client limits on writes and logins"),
    Setting(
        "REDIS_URL",
        "redis url",
        None,
        "redis:// URL where the rate-limit counts are kept instead of the store (needs the [redis] extra); "
        "default none: the store",
        secret=True,
    ),
    Setting(
        "RATELIMIT_PROPOSALS",
        "rate limits",
        "10/minute;60/hour",
        "new proposals per client (count/period;..., period second, minute, hour, day or seconds)",
    ),
    Setting("RATELIMIT_SUPPORTS", "rate limits", "30/minute;300/hour", "supports per client, same form"),
    Setting(
        "RATELIMIT_LOGINS",
        "rate limits",
        "20/minute;200/hour",
        "requests to the staff login page per client (on top of the per-account lock-out)",
    ),
    Setting("RATELIMIT_FLAGS", "rate limits", "5/minute;20/day", "residents' flags per client"),
    Setting(
        "RATELIMIT_SIMILAR",
        "rate limits",
        "60/minute;1000/hour",
        "similar-proposal lookups (/api/proposals/similar, asked while a resident types) per client",
    ),
    Setting(
        "RATELIMIT_DOWNLOADS",
        "rate limits",
        "20/minute;200/hour",
        "public downloads (/api/export/...) per client; each is built once per change of the data",
    ),
    Setting(
        "PROXY_COUNT",
        "int",
        0,
        "reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted",
        minimum=0,
        maximum=10,
    ),
    Setting(
        "BASE_URL",
        "optional text",
        None,
        "the app's public address, e.g. https://dialog.lund.se/dalby: every absolute link is built from it, "
        "never from the Host header",
    ),
    Setting(
        "TRUSTED_HOSTS",
        "hosts",
        None,
        'Host values the app answers at all (Flask), e.g. ["dialog.lund.se", "127.0.0.1"]; others get 400',
    ),
    Setting("SESSION_COOKIE_SECURE", "bool", False, "set true behind HTTPS"),
    Setting("PERMANENT_SESSION_LIFETIME", "int", 8 * 3600, "seconds until a staff login expires", minimum=60),
    Setting(
        "LOGIN_MAX_FAILURES",
        "int",
        5,
        "wrong passwords in a row (form or HTTP Basic) from one client before "
        "that client is refused for that username (known or not); other clients are not affected",
        minimum=1,
    ),
    Setting("LOGIN_LOCKOUT_MINUTES", "number", 15, "how long such a client stays refused for that username", minimum=0),
    Setting(
        "TOKEN_DAYS", "int", 90, "days until an API token from create-token expires (unless --days)", minimum=1, maximum=3650
    ),
    Setting("FLAG_HIDE_THRESHOLD", "int", 3, "residents' flags that hide a proposal until a moderator reviews it", minimum=1),
    Setting(
        "RATELIMIT_SUPPORTS_PER_NETWORK",
        "int",
        10,
        "supports one proposal may get from one network (IPv4 /24, IPv6 /64) in 24 hours; 0 turns it off",
        minimum=0,
    ),
    Setting(
        "CONTACT_RETENTION_DAYS",
        "int",
        90,
        "a resident's name and e-mail are deleted this many days after their proposal is closed",
        minimum=0,
    ),
    Setting(
        "CONTACT_MAX_RETENTION_DAYS",
        "int",
        1095,
        "contact details are deleted this long after submission even if the proposal was never closed",
        minimum=1,
    ),
    Setting(
        "PUBLIC_GRID_M",
        "number",
        0,
        "when > 0, public outputs show proposals snapped to a grid of this many metres",
        minimum=0,
        maximum=10_000,
    ),
    Setting(
        "SURVEY_MIN_ANSWERS",
        "int",
        5,
        "public survey grids leave out every cell with fewer respondents than this (k-anonymity)",
        minimum=2,
        maximum=1000,
    ),
    Setting(
        "MAP_POINTS_MAX",
        "int",
        2000,
        "the maps show single proposals when the view holds at most this many, grid clusters beyond",
        minimum=1,
        maximum=20_000,
    ),
    Setting("HOLD_LINKS", "bool", True, "a proposal whose text contains a link is stored hidden until a moderator publishes it"),
    Setting(
        "PHOTO_DIR", "optional text", None, "folder of residents' photos (files named by content hash); default <instance>/photos"
    ),
    Setting(
        "PHOTO_MAX_BYTES",
        "int",
        10 * 1024 * 1024,
        "largest photo a resident may send with a proposal; a larger upload is refused with 413",
        minimum=1024,
        maximum=100 * 1024 * 1024,
    ),
    Setting(
        "PHOTO_MAX_PIXELS",
        "int",
        50_000_000,
        "a photo whose header declares more pixels is refused before it is decoded (decompression bombs)",
        minimum=10_000,
        maximum=80_000_000,  # below Pillow's own bomb warning (89 million), which would refuse earlier anyway
    ),
    Setting(
        "PRIVACY_CONTROLLER",
        "optional text",
        None,
        "the data controller named on /privacy; default <municipality> (kommunstyrelsen)",
    ),
    Setting("PRIVACY_CONTACT_EMAIL", "optional text", None, "the address /privacy gives for personal-data questions"),
    Setting(
        "LANGUAGES",
        "languages",
        None,
        "languages offered to residents, the first is the default; unset: `languages` in locality.toml (else sv,en)",
    ),
)


def defaults() -> dict[str, Any]:
    """The code default of every declared setting."""
    return {setting.name: setting.default for setting in SETTINGS}


def validated(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return every declared setting parsed to its kind, or raise one ``SettingsError`` naming each bad value."""
    values, problems = {}, []
    for setting in SETTINGS:
        raw = config.get(setting.name, setting.default)
        if isinstance(raw, str) and setting.kind not in {"text", "optional text", "rate limits", "languages", "tile url"}:
            raw = _json_or_text(raw)
        try:
            values[setting.name] = setting.parse(raw)
        except (TypeError, ValueError) as error:
            problems.append(f"{setting.variable}: {error}")
    if problems:
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(problems))
    return values


def described(config: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Rows ``(variable, current value, help)`` with secrets masked, for ``dialogkarta settings``."""
    rows = []
    for setting in SETTINGS:
        value = config.get(setting.name, setting.default)
        shown = "(set, hidden)" if setting.secret and value else json.dumps(value, ensure_ascii=False, default=str)
        rows.append((setting.variable, shown, setting.help))
    return rows


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw

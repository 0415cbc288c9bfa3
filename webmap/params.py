"""Paging and filter parameters of /api and /ogc, parsed strictly and bounded (issue #9).

Integers are ASCII digits that fit in 64 bits, a ``bbox`` is four finite numbers inside its CRS's
valid range, dates are RFC 3339 with an interval's start before its end. Every parser takes the
raw text (never ``flask.request``) and raises ``ParameterError`` with a Swedish and an English
sentence; /api and /ogc wrap it in their own error shape. Bounds here are what keeps the work of
one request bounded: nothing larger than ``MAX_OFFSET`` reaches SQL.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, time, UTC

from ..errors import UserError
from ..layers.map_view import MAX_ZOOM

INT64_MAX = 2**63 - 1
MAX_OFFSET = 10**9  # far past any store; past the matches, the page is empty without a scan
MAX_DIGITS = 19  # len(str(INT64_MAX)): anything longer is refused before int() sees it
_INTEGER = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?|[+-]?(?:inf(?:inity)?|nan)", re.IGNORECASE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:\.[0-9]{1,9})?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
WGS84_RANGE = (-180.0, -90.0, 180.0, 90.0)


class ParameterError(UserError):
    """A query parameter that cannot be read or lies outside its bounds (answered 400)."""

    code = "bad_request"

    def __init__(self, field: str, sv: str, en: str):
        super().__init__(sv, en, field=field)
        self.field = field


def parse_int(name: str, raw: str | None, default: int | None, minimum: int, maximum: int, clamp: bool = False) -> int | None:
    """Return ``raw`` as an integer in ``minimum..maximum``; ``clamp`` lowers a too-large one to ``maximum``."""
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw):
        digits = raw[1:] if raw.startswith("-") else raw
        if not (digits.isascii() and digits.isdigit()):
            raise ParameterError(
                name,
                f"{name} ska vara ett heltal (siffrorna 0–9), fick {raw[:40]!r}.",
                f"{name} must be a whole number (digits 0–9), got {raw[:40]!r}.",
            )
        raise _out_of_range(name, minimum, maximum)  # negative, or more digits than 64 bits hold
    value = int(raw)
    if value > INT64_MAX or value < minimum or (value > maximum and not clamp):
        raise _out_of_range(name, minimum, maximum)
    return min(value, maximum)


def _out_of_range(name: str, minimum: int, maximum: int) -> ParameterError:
    return ParameterError(
        name, f"{name} ska vara mellan {minimum} och {maximum}.", f"{name} must be between {minimum} and {maximum}."
    )


def parse_numbers(name: str, raw: str, counts: tuple[int, ...]) -> list[float]:
    """Return the comma-separated finite numbers of ``raw``; their count must be one of ``counts``."""
    parts = raw.split(",")
    wanted = " eller ".join(map(str, counts)), " or ".join(map(str, counts))
    if len(parts) not in counts:
        raise ParameterError(
            name,
            f"{name} ska vara {wanted[0]} tal åtskilda med kommatecken, fick {len(parts)}.",
            f"{name} must be {wanted[1]} numbers separated by commas, got {len(parts)}.",
        )
    if not all(_NUMBER.fullmatch(p.strip()) for p in parts):
        raise ParameterError(
            name,
            f"{name} ska bara innehålla tal, t.ex. 13.33,55.65,13.37,55.67.",
            f"{name} must contain numbers only, e.g. 13.33,55.65,13.37,55.67.",
        )
    values = [float(p) for p in parts]
    if not all(math.isfinite(v) for v in values):  # 1e999 reads as inf
        raise ParameterError(name, f"{name} ska bara innehålla ändliga tal.", f"{name} must contain finite numbers only.")
    return values


def check_box(name: str, box: list[float], valid: tuple[float, float, float, float]) -> list[float]:
    """Refuse an inverted ``box`` or one reaching beyond ``valid`` (minx, miny, maxx, maxy); return it."""
    min_x, min_y, max_x, max_y = box
    if min_x > max_x or min_y > max_y:
        raise ParameterError(
            name,
            f"{name} är omvänd: ange det nedre vänstra hörnet först, sedan det övre högra.",
            f"{name} is inverted: give the lower-left corner first, then the upper-right.",
        )
    if min_x < valid[0] or min_y < valid[1] or max_x > valid[2] or max_y > valid[3]:
        if valid == WGS84_RANGE:
            raise ParameterError(
                name,
                f"{name} ligger utanför jordklotet: longitud -180..180, latitud -90..90.",
                f"{name} lies beyond the globe: longitude -180..180, latitude -90..90.",
            )
        limits = f"{valid[0]:.0f}..{valid[2]:.0f}, {valid[1]:.0f}..{valid[3]:.0f}"
        raise ParameterError(
            name,
            f"{name} når utanför koordinatsystemets giltiga område ({limits}).",
            f"{name} reaches beyond the coordinate system's valid area ({limits}).",
        )
    return box


def parse_instant(name: str, text: str, end: bool) -> datetime | None:
    """Return an RFC 3339 instant (a bare date: its first or, for ``end``, last moment) as aware UTC; ``..`` is open."""
    text = text.strip()
    if text in ("", ".."):
        return None
    try:
        if _DATE.fullmatch(text):
            day = datetime.fromisoformat(text).date()
            return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        if not _DATETIME.fullmatch(text):
            raise ValueError(text)
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # month 13, or year 9999 pushed past the calendar by its offset
        raise ParameterError(
            name,
            f"{name} ska vara ett datum enligt RFC 3339, t.ex. 2026-03-01T10:00:00Z eller 2026-03-01/.., fick {text[:40]!r}.",
            f"{name} must be an RFC 3339 date, e.g. 2026-03-01T10:00:00Z or 2026-03-01/.., got {text[:40]!r}.",
        ) from None


def parse_interval(name: str, raw: str | None) -> tuple[datetime | None, datetime | None] | None:
    """Return ``(start, end)`` for an instant, a date or an interval ``start/end`` (either end ``..``)."""
    if not raw:
        return None
    if "/" in raw:
        first, _sep, last = raw.partition("/")
        start, end = parse_instant(name, first, False), parse_instant(name, last, True)
        if start is not None and end is not None and start > end:
            raise ParameterError(
                name, f"{name}: intervallets början ligger efter dess slut.", f"{name}: the interval starts after it ends."
            )
        return start, end
    start, end = parse_instant(name, raw, False), parse_instant(name, raw, True)
    return start, end


def parse_zoom(raw: str | None) -> int:
    """Return the map's zoom level, required, 0..``MAX_ZOOM``."""
    if raw is None or raw == "":
        raise required("zoom", "kartans zoomnivå, ett heltal 0–22", "the map's zoom level, a whole number 0–22")
    value = parse_int("zoom", raw, None, 0, MAX_ZOOM)
    assert value is not None
    return value


def required(name: str, sv: str, en: str) -> ParameterError:
    """Return the error for a missing parameter ``name``, saying what it should hold."""
    return ParameterError(name, f"{name} saknas: ange {sv}.", f"{name} is missing: give {en}.")

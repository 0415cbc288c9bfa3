"""Times as residents and planners read them: in the locality's time zone (``timezone`` in locality.toml).

The store keeps UTC and exports keep ISO 8601 with an offset; only what a page shows is converted,
through the Jinja filters registered here: ``local_time`` ("2026-03-29 03:30 CEST"), ``local_date``
and ``local_iso`` (for a ``<time datetime>`` attribute, with the local offset). Swedish and English
pages show ISO dates; a language in ``SPELLED_DATES`` gets the month's name from Babel's locale data
("27 نوفمبر 2026" in Arabic, with the Western digits the rest of the page and the map use).
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_date

from . import db
from .i18n import current_language

TIME_FORMAT = "%Y-%m-%d %H:%M %Z"
SPELLED_DATES = {"ar": "d MMMM y"}  # CLDR patterns; an ISO date in a right-to-left sentence reads poorly


def local(value: datetime) -> datetime:
    """Return ``value`` in the locality's time zone."""
    return db.registry().locality.local(value)


def local_time(value: datetime | None, format: str = TIME_FORMAT) -> str:
    """Return ``value`` as the locality's clock shows it, with the zone's abbreviation; "" for None."""
    return "" if value is None else local(value).strftime(format)


def local_date(value: datetime | None) -> str:
    """Return the locality's calendar date of ``value`` as the page's language writes it; "" for None."""
    if value is None:
        return ""
    pattern = SPELLED_DATES.get(current_language())
    return format_date(local(value).date(), pattern) if pattern else local_time(value, "%Y-%m-%d")


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(lambda value: "" if value is None else local(value).isoformat(), "local_iso")

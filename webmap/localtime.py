"""Times as residents and planners read them: in the locality's time zone (``timezone`` in locality.toml).

The store keeps UTC and exports keep ISO 8601 with an offset; only what a page shows is converted,
through the Jinja filters registered here: ``local_time`` ("2026-03-29 03:30 CEST"), ``local_date``
and ``local_iso`` (for a ``<time datetime>`` attribute, with the local offset).
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from . import db

TIME_FORMAT = "%Y-%m-%d %H:%M %Z"


def local(value: datetime) -> datetime:
    """Return ``value`` in the locality's time zone."""
    return db.registry().locality.local(value)


def local_time(value: datetime | None, format: str = TIME_FORMAT) -> str:
    """Return ``value`` as the locality's clock shows it, with the zone's abbreviation; "" for None."""
    return "" if value is None else local(value).strftime(format)


def init_app(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(lambda value: local_time(value, "%Y-%m-%d"), "local_date")
    app.add_template_filter(lambda value: "" if value is None else local(value).isoformat(), "local_iso")

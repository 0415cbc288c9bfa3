"""A planner's named filters of the overlay and its table, kept per user as the filter's query string.

The query holds only the filter parameters (``report.FILTERS``), each checked and re-encoded here, so a saved
filter opens as the same shareable URL the overlay shows. No Flask here.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from ..errors import UserError
from .report import FILTERS, filter_records
from .schema import saved_filters
from .store import inserted_id, utcnow

NAME_MAX = 80
QUERY_MAX = 1000


class SavedFilterError(UserError):
    """A filter that cannot be saved or removed; says why (sv and en)."""

    code = "saved_filter"


def clean_query(query: str) -> str:
    """Keep the filter parameters of ``query`` that have a value, in a fixed order; refuse a bad date."""
    values = {key: value.strip() for key, value in parse_qsl(query.lstrip("?")) if key in FILTERS and value.strip()}
    try:
        filter_records([], **values)  # the same check the overlay makes (dates as YYYY-MM-DD)
    except ValueError as error:
        raise SavedFilterError("Datum anges som ÅÅÅÅ-MM-DD.", "dates are written YYYY-MM-DD") from error
    cleaned = urlencode([(key, values[key]) for key in FILTERS if key in values])
    if len(cleaned) > QUERY_MAX:
        raise SavedFilterError("Filtret är för långt för att sparas.", "the filter is too long to save")
    return cleaned


def save(conn: Connection, user_id: int, name: str, query: str) -> int:
    """Store the filter ``query`` under ``name`` for this user; return its id."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise SavedFilterError(
            f"Ge filtret ett namn (högst {NAME_MAX} tecken).", f"give the filter a name (at most {NAME_MAX} characters)"
        )
    cleaned = clean_query(query)
    try:
        with conn.begin_nested():
            result = conn.execute(insert(saved_filters).values(user_id=user_id, name=name, query=cleaned, created_at=utcnow()))
    except IntegrityError as error:
        raise SavedFilterError(
            f"Du har redan ett filter som heter ”{name}”.", f"you already have a filter named “{name}”"
        ) from error
    return inserted_id(result)


def for_user(conn: Connection, user_id: int) -> list[dict]:
    """This user's saved filters by name: id, name and query string."""
    rows = conn.execute(
        select(saved_filters.c.id, saved_filters.c.name, saved_filters.c.query)
        .where(saved_filters.c.user_id == user_id)
        .order_by(saved_filters.c.name)
    )
    return [dict(row._mapping) for row in rows]


def remove(conn: Connection, user_id: int, filter_id: int) -> None:
    """Delete one of this user's saved filters; another user's or an unknown id is refused."""
    deleted = conn.execute(
        delete(saved_filters).where(saved_filters.c.id == filter_id, saved_filters.c.user_id == user_id)
    ).rowcount
    if deleted != 1:
        raise SavedFilterError("Filtret finns inte.", "no such filter")

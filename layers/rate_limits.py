"""Per-client rate limits kept in the store, so that every app server counts the same requests.

Each limit, ``count`` requests per ``period`` seconds, is a generic cell rate algorithm (GCRA, the
scheme of redis-cell and of most API gateways): a client's row holds the moment its allowance is
used up to (``allowance_until``, Unix seconds); each request moves it on by ``period / count``,
and a request that would move it more than ``period`` past now is refused, nothing counted. So a
client may send ``count`` requests at once and then one every ``period / count`` seconds; a
refusal says how long until the next one fits. One row per client and limit, changed by one atomic
upsert per limit (``INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING``, the same SQL on
SQLite 3.35+ and PostgreSQL): the row lock makes concurrent requests on several servers
queue, so two can never both take the last place. On PostgreSQL the transaction commits without
waiting for its WAL flush (``synchronous_commit`` off for it alone): a crash may forget the last
counts, never the proposals. A row whose allowance lies in the past says no more than a missing row, so
``prune`` deletes those and the table holds at most one row per recently active client and limit.

Clients are named by the caller (a keyed hash of the bucket and the address: no address is
stored). Time is the wall clock, which every server shares (keep them in step with NTP); nothing here knows about Flask.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, delete, select, text, update

from .schema import rate_hits

Limits = list[tuple[int, float]]  # (count, period in seconds), as settings.parse_limits reads them
SLACK = 1e-6  # seconds: ``count`` steps of ``period / count`` add up to ``period`` give or take rounding


def _distinct(limits: Limits) -> Limits:
    # One row per period: of two limits over the same period (``10/60;20/minute``) the stricter holds.
    strictest: dict[int, tuple[int, float]] = {}
    for count, seconds in limits:
        key = round(seconds * 1000)
        if key not in strictest or count < strictest[key][0]:
            strictest[key] = (count, seconds)
    return list(strictest.values())


def _durable_enough(conn: Connection) -> None:
    # A count lost in a crash costs nothing; PostgreSQL then need not wait for the WAL flush at commit.
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def _row(client: str, seconds: float):
    return and_(rate_hits.c.client == client, rate_hits.c.period_ms == round(seconds * 1000))


# Written out once rather than built per call: SQLAlchemy would compile a fresh upsert each time
# (its literal times defeat the statement cache), which cost more than the database's work.
_START = "CASE WHEN rate_hits.allowance_until > :now THEN rate_hits.allowance_until ELSE :now END"
_ADVANCE = (
    "INSERT INTO rate_hits (client, period_ms, allowance_until) VALUES (:client, :period_ms, :now + :step) "
    f"ON CONFLICT (client, period_ms) DO UPDATE SET allowance_until = {_START} + :step"
)
_ADVANCE_IF_ALLOWED = text(f"{_ADVANCE} WHERE {_START} + :step <= :now + :seconds + :slack RETURNING period_ms")
_ADVANCE_ALWAYS = text(_ADVANCE)


def _advance(conn: Connection, client: str, limits: Limits, now: float, only_if_allowed: bool) -> set[int]:
    # Insert the client's row for each limit, or move its allowance on by one step (``period /
    # count``); with only_if_allowed, a row whose step would go past now + period stays as it is.
    # Return the periods (ms) whose rows moved.
    moved: set[int] = set()
    for count, seconds in limits:
        period_ms = round(seconds * 1000)
        values = {"client": client, "period_ms": period_ms, "now": now, "step": seconds / count}
        if only_if_allowed:
            if conn.execute(_ADVANCE_IF_ALLOWED, {**values, "seconds": seconds, "slack": SLACK}).first() is not None:
                moved.add(period_ms)
        else:
            conn.execute(_ADVANCE_ALWAYS, values)
    return moved


def take(conn: Connection, client: str, limits: Limits, now: float) -> float:
    """Count one request against every limit; return 0 if it is allowed, else the seconds until it would be.

    A refused request counts against none of the limits.
    """
    limits = _distinct(limits)
    _durable_enough(conn)
    moved = _advance(conn, client, limits, now, only_if_allowed=True)
    if len(moved) == len(limits):
        return 0.0
    for count, seconds in limits:  # some limits let it through: give their step back
        if round(seconds * 1000) in moved:
            conn.execute(
                update(rate_hits)
                .where(_row(client, seconds))
                .values(allowance_until=rate_hits.c.allowance_until - seconds / count)
            )
    return wait(conn, client, limits, now)


def record(conn: Connection, client: str, limits: Limits, now: float) -> None:
    """Count one request whatever the limits say (a failed login counts even when it is refused)."""
    _durable_enough(conn)
    _advance(conn, client, _distinct(limits), now, only_if_allowed=False)


def wait(conn: Connection, client: str, limits: Limits, now: float) -> float:
    """Return the seconds until one more request would be allowed (0: now), counting nothing."""
    held = dict(
        conn.execute(
            select(rate_hits.c.period_ms, rate_hits.c.allowance_until).where(
                rate_hits.c.client == client, rate_hits.c.period_ms.in_([round(s * 1000) for _c, s in limits])
            )
        ).all()
    )
    longest = 0.0
    for count, seconds in _distinct(limits):
        until = held.get(round(seconds * 1000))
        if until is not None:
            longest = max(longest, until + seconds / count - seconds - now)
    return max(longest, 0.001) if longest > SLACK else 0.0


def prune(conn: Connection, now: float) -> int:
    """Delete the rows whose allowance lies in the past (they limit nothing); return how many."""
    return conn.execute(delete(rate_hits).where(rate_hits.c.allowance_until < now)).rowcount

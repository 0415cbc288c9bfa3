"""The rate limits kept in the store: a burst of ``count``, then one request per ``period / count``, per client."""

from __future__ import annotations

import pytest

from dialogkarta.layers import rate_limits
from dialogkarta.layers.schema import rate_hits
from sqlalchemy import func, select

TWO_PER_MINUTE = [(2, 60.0)]


def take(engine, client: str, at: float, limits=TWO_PER_MINUTE) -> float:
    with engine.begin() as conn:
        return rate_limits.take(conn, client, limits, at)


def test_a_client_gets_its_burst_then_waits_for_the_next_place(engine):
    assert take(engine, "a", 0) == 0 and take(engine, "a", 10) == 0
    assert take(engine, "a", 20) == pytest.approx(10)  # the first of the two places comes back at 30
    assert take(engine, "b", 20) == 0  # per client
    assert take(engine, "a", 30) == 0


def test_a_refused_request_counts_against_no_limit(engine):
    limits = [(1, 1.0), (3, 3600.0)]
    assert take(engine, "a", 0, limits) == 0
    assert [take(engine, "a", 0.5, limits) > 0 for _ in range(5)] == [True] * 5  # refused by the 1/second limit
    assert take(engine, "a", 1.5, limits) == 0 and take(engine, "a", 2.5, limits) == 0  # the hour still has its 3
    assert take(engine, "a", 3.5, limits) == pytest.approx(1200 - 3.5)  # the fourth this hour waits


def test_a_client_at_its_limit_waits_and_records_count_whatever_the_limit_says(engine):
    with engine.begin() as conn:
        rate_limits.record(conn, "a", TWO_PER_MINUTE, 0)
        assert rate_limits.wait(conn, "a", TWO_PER_MINUTE, 0) == 0
        rate_limits.record(conn, "a", TWO_PER_MINUTE, 0)
        assert rate_limits.wait(conn, "a", TWO_PER_MINUTE, 0) == pytest.approx(30)
        rate_limits.record(conn, "a", TWO_PER_MINUTE, 0)
        assert rate_limits.wait(conn, "a", TWO_PER_MINUTE, 0) == pytest.approx(60)


def test_spent_rows_are_pruned_and_the_table_holds_a_row_per_client_and_limit(engine):
    limits = [(10, 60.0), (60, 3600.0)]
    for client in ("a", "b", "c"):
        for second in range(5):
            take(engine, client, second, limits)
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(rate_hits)).scalar_one() == 6
        assert rate_limits.prune(conn, 40) == 3  # the minute rows are spent by then, the hour rows not
        assert rate_limits.prune(conn, 400) == 3


def test_of_two_limits_over_one_period_the_stricter_holds(engine):
    limits = [(3, 60.0), (1, 60.0)]
    assert take(engine, "a", 0, limits) == 0
    assert take(engine, "a", 1, limits) == pytest.approx(59)

"""The rate limits kept in the store or in Redis: a burst of ``count``, then one request per ``period / count``, per client.

The behaviour tests run against both back-ends; the Redis ones need a redis-server (see ``redis_server`` in conftest).
"""

from __future__ import annotations

import socket

import pytest

from dialogkarta.layers import rate_limits, rate_limits_redis
from dialogkarta.layers.schema import rate_hits
from sqlalchemy import func, select

TWO_PER_MINUTE = [(2, 60.0)]


class InStore:
    def __init__(self, engine):
        self.engine = engine

    def __getattr__(self, name: str):
        def call(client: str, limits, at: float):
            with self.engine.begin() as conn:
                return getattr(rate_limits, name)(conn, client, limits, at)

        return call


class InRedis:
    def __init__(self, url: str):
        self.url = url

    def __getattr__(self, name: str):
        return lambda client, limits, at: getattr(rate_limits_redis, name)(self.url, client, limits, at)


@pytest.fixture(params=["store", "redis"])
def limiter(request):
    """The rate limits' ``take``, ``record`` and ``wait`` on one back-end, each call its own transaction."""
    if request.param == "store":
        return InStore(request.getfixturevalue("engine"))
    return InRedis(request.getfixturevalue("redis_url"))


def take(engine, client: str, at: float, limits=TWO_PER_MINUTE) -> float:
    with engine.begin() as conn:
        return rate_limits.take(conn, client, limits, at)


def test_a_client_gets_its_burst_then_waits_for_the_next_place(limiter):
    assert limiter.take("a", TWO_PER_MINUTE, 0) == 0 and limiter.take("a", TWO_PER_MINUTE, 10) == 0
    assert limiter.take("a", TWO_PER_MINUTE, 20) == pytest.approx(10)  # the first of the two places comes back at 30
    assert limiter.take("b", TWO_PER_MINUTE, 20) == 0  # per client
    assert limiter.take("a", TWO_PER_MINUTE, 30) == 0


def test_a_refused_request_counts_against_no_limit(limiter):
    limits = [(1, 1.0), (3, 3600.0)]
    assert limiter.take("a", limits, 0) == 0
    assert [limiter.take("a", limits, 0.5) > 0 for _ in range(5)] == [True] * 5  # refused by the 1/second limit
    assert limiter.take("a", limits, 1.5) == 0 and limiter.take("a", limits, 2.5) == 0  # the hour still has its 3
    assert limiter.take("a", limits, 3.5) == pytest.approx(1200 - 3.5)  # the fourth this hour waits


def test_a_client_at_its_limit_waits_and_records_count_whatever_the_limit_says(limiter):
    limiter.record("a", TWO_PER_MINUTE, 0)
    assert limiter.wait("a", TWO_PER_MINUTE, 0) == 0
    limiter.record("a", TWO_PER_MINUTE, 0)
    assert limiter.wait("a", TWO_PER_MINUTE, 0) == pytest.approx(30)
    limiter.record("a", TWO_PER_MINUTE, 0)
    assert limiter.wait("a", TWO_PER_MINUTE, 0) == pytest.approx(60)


def test_spent_rows_are_pruned_and_the_table_holds_a_row_per_client_and_limit(engine):
    limits = [(10, 60.0), (60, 3600.0)]
    for client in ("a", "b", "c"):
        for second in range(5):
            take(engine, client, second, limits)
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(rate_hits)).scalar_one() == 6
        assert rate_limits.prune(conn, 40) == 3  # the minute rows are spent by then, the hour rows not
        assert rate_limits.prune(conn, 400) == 3


def test_of_two_limits_over_one_period_the_stricter_holds(limiter):
    limits = [(3, 60.0), (1, 60.0)]
    assert limiter.take("a", limits, 0) == 0
    assert limiter.take("a", limits, 1) == pytest.approx(59)


def test_at_unix_times_the_allowance_keeps_its_fractions(limiter):
    now = 1_795_000_000.123456
    assert limiter.take("a", [(1, 1.0)], now) == 0
    assert limiter.take("a", [(1, 1.0)], now + 0.5) == pytest.approx(0.5, abs=1e-6)
    assert limiter.take("a", [(1, 1.0)], now + 1) == 0


def test_in_redis_each_key_expires_when_its_allowance_is_spent(redis_url):
    import redis

    limits = [(2, 60.0), (60, 3600.0)]
    rate_limits_redis.record(redis_url, "a", limits, 0)
    rate_limits_redis.record(redis_url, "a", limits, 0)
    keys = redis.Redis.from_url(redis_url)
    assert 59_000 < keys.pttl(rate_limits_redis.key("a", 60.0)) <= 60_001  # two steps of 30 s
    assert 119_000 < keys.pttl(rate_limits_redis.key("a", 3600.0)) <= 120_001  # two steps of 60 s
    assert keys.dbsize() == 2


def test_a_redis_that_cannot_be_reached_says_so():
    pytest.importorskip("redis")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    with pytest.raises(rate_limits_redis.Unavailable):
        rate_limits_redis.take(url, "a", TWO_PER_MINUTE, 0)

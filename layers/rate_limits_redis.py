"""The rate limits of ``layers.rate_limits`` kept in Redis instead of the store: the same GCRA, one Lua script per check.

Used when ``DIALOGKARTA_REDIS_URL`` is set. Each client and limit is one key holding the moment its
allowance is used up to (Unix seconds, as the store's ``allowance_until``); the script reads every
limit's key, decides and moves them all on in one atomic step (run by EVALSHA), so two servers can
never both take the last place. Each key expires when its allowance does, so nothing piles up and no
pruning is needed. ``take``, ``record`` and ``wait`` answer exactly as the store's functions do. A
Redis that cannot be reached raises :class:`Unavailable`; the caller decides what to do. No Flask here.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

from .rate_limits import SLACK, Limits, _distinct

TIMEOUT = 0.5  # seconds to connect or answer: a Redis that is down must not hold up a request

# KEYS: one per limit. ARGV: mode ("take", "record" or "wait"), now, slack, then step and period per limit.
# Numbers travel as strings written with 17 digits: Lua's own tostring keeps 14, too few for Unix time in µs.
_SCRIPT = """
local mode, now, slack = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local held, allowed = {}, true
for i = 1, #KEYS do
  local step, period = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local until_ = tonumber(redis.call('GET', KEYS[i]) or '')
  held[i] = until_
  local start = now
  if until_ and until_ > now then start = until_ end
  if start + step > now + period + slack then allowed = false end
end
if mode == 'record' or (mode == 'take' and allowed) then
  for i = 1, #KEYS do
    local step = tonumber(ARGV[2 + 2 * i])
    local start = now
    if held[i] and held[i] > now then start = held[i] end
    local new = start + step
    redis.call('SET', KEYS[i], string.format('%.17g', new), 'PX', math.ceil((new - now) * 1000) + 1)
  end
  return '0'
end
local longest = 0
for i = 1, #KEYS do
  if held[i] then
    local step, period = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
    longest = math.max(longest, held[i] + step - period - now)
  end
end
return string.format('%.17g', longest)
"""


class Unavailable(RuntimeError):
    """Redis could not be reached or did not answer in time."""


@functools.cache
def connect(url: str) -> Any:
    """Return the (thread-safe, pooled) client for ``url`` and the registered script, made once per process."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    return client, client.register_script(_SCRIPT)


def key(client: str, seconds: float) -> str:
    """The Redis key of one client and limit; the braces keep a client's keys on one Redis Cluster slot."""
    return f"dialogkarta:rate:{{{client}}}:{round(seconds * 1000)}"


def _run(url: str, mode: str, client: str, limits: Limits, now: float) -> float:
    import redis

    limits = _distinct(limits)
    arguments: list[Any] = [mode, repr(now), repr(SLACK)]
    for count, seconds in limits:
        arguments += [repr(seconds / count), repr(seconds)]
    _client, script = connect(url)
    try:
        longest = float(script(keys=[key(client, seconds) for _count, seconds in limits], args=arguments))
    except redis.RedisError as error:
        raise Unavailable(f"Redis at {urlsplit(url).hostname}: {error}") from error
    return max(longest, 0.001) if longest > SLACK else 0.0


def take(url: str, client: str, limits: Limits, now: float) -> float:
    """Count one request against every limit; return 0 if it is allowed, else the seconds until it would be.

    A refused request counts against none of the limits.
    """
    return _run(url, "take", client, limits, now)


def record(url: str, client: str, limits: Limits, now: float) -> None:
    """Count one request whatever the limits say (a failed login counts even when it is refused)."""
    _run(url, "record", client, limits, now)


def wait(url: str, client: str, limits: Limits, now: float) -> float:
    """Return the seconds until one more request would be allowed (0: now), counting nothing."""
    return _run(url, "wait", client, limits, now)

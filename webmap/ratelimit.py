"""Per-client rate limits on writes, counted in the store so that every app server agrees.

The counting is ``layers.rate_limits`` (a GCRA per client and limit, one row each, one atomic
upsert per limit): a client that reached a limit on one server is refused on every other, and
restarting a server forgets nothing. Why not Flask-Limiter: its storage back-ends (memory, Redis,
Memcached, MongoDB) have no SQL one, so on our single dependency, the store, it could only count
per process, which is what this module did before; a limiter in the database we already run needs
no new service. With ``REDIS_URL`` set the same counting runs in Redis instead
(``layers.rate_limits_redis``); a Redis that cannot be reached hands the counting back to the store,
with a warning in the log at most once a minute per process, so limits keep holding and nothing
fails. A request that is refused counts nothing; a failed login or token attempt
(``record``) always counts. Clients are told apart by ``request.remote_addr`` (behind a reverse
proxy set ``PROXY_COUNT``, so it is the resident's address, not the proxy's), stored only as a
hash keyed with the app's secret.

Configuration (``DIALOGKARTA_`` environment variables or test config):

- ``RATELIMIT_ENABLED``: ``false`` turns every limit off (nothing is written).
- ``RATELIMIT_PROPOSALS`` / ``RATELIMIT_SUPPORTS`` / ``RATELIMIT_LOGINS`` / ``RATELIMIT_FLAGS`` / ``RATELIMIT_SIMILAR`` /
  ``RATELIMIT_DOWNLOADS``: limits as ``"count/period"`` joined by ``;``,
  period one of ``second``, ``minute``, ``hour``, ``day`` or a number of seconds, e.g.
  ``"10/minute;60/hour"``.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from functools import wraps

from flask import current_app, request

from ..layers import rate_limits, rate_limits_redis
from ..settings import parse_limits
from . import db

PRUNE_EVERY = 60.0  # seconds between one process's sweeps of spent rows
_pruned = {"at": 0.0}
_prune_lock = threading.Lock()
WARN_EVERY = 60.0  # seconds between one process's warnings that Redis cannot be reached
_warned = {"at": -WARN_EVERY}


def _limits(bucket: str) -> list[tuple[int, float]] | None:
    config = current_app.config
    return parse_limits(config[f"RATELIMIT_{bucket.upper()}"]) if config["RATELIMIT_ENABLED"] else None


def _client_key(bucket: str) -> str:
    # Keyed with the app's secret (the same on every server) so the stored value names no address.
    message = f"{bucket}\n{request.remote_addr or '-'}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()


def _maybe_prune(conn, now: float) -> None:
    with _prune_lock:
        if now - _pruned["at"] < PRUNE_EVERY:
            return
        _pruned["at"] = now
    rate_limits.prune(conn, now)


def too_many(retry_after: float):
    """The 429 answer, with ``Retry-After`` in whole seconds."""
    from .errors import error_response, http_message

    response = error_response(429, "rate_limited", http_message(429))
    response.headers["Retry-After"] = str(int(retry_after + 0.999))
    return response


def _in_redis(count, bucket: str, limits, now: float) -> float | None:
    # The Redis back-end's answer, or None when it is not set or cannot be reached: the store then
    # counts, so limits keep holding (from fresh counts) while Redis is away.
    url = current_app.config["REDIS_URL"]
    if not url:
        return None
    try:
        return count(url, _client_key(bucket), limits, now) or 0.0
    except rate_limits_redis.Unavailable as error:
        moment = time.monotonic()
        with _prune_lock:
            if moment - _warned["at"] >= WARN_EVERY:
                _warned["at"] = moment
                current_app.logger.warning("rate limits counted in the store for now: %s", error)
        return None


def wait(bucket: str) -> float:
    """Return how long this client must wait before using ``bucket`` again (0: not at all)."""
    limits = _limits(bucket)
    if not limits:
        return 0.0
    in_redis = _in_redis(rate_limits_redis.wait, bucket, limits, time.time())
    if in_redis is not None:
        return in_redis
    with db.reading() as conn:
        return rate_limits.wait(conn, _client_key(bucket), limits, time.time())


def record(bucket: str) -> None:
    """Count one use of ``bucket`` by this client (e.g. a failed HTTP Basic or token attempt)."""
    limits = _limits(bucket)
    if limits and _in_redis(rate_limits_redis.record, bucket, limits, time.time()) is None:
        with db.transaction() as conn:
            rate_limits.record(conn, _client_key(bucket), limits, time.time())


def hit(bucket: str) -> float:
    """Count one use of ``bucket`` if the limits allow it; return 0, or the seconds until they would."""
    limits = _limits(bucket)
    if not limits:
        return 0.0
    now = time.time()
    in_redis = _in_redis(rate_limits_redis.take, bucket, limits, now)
    if in_redis is not None:
        return in_redis
    with db.transaction() as conn:
        retry_after = rate_limits.take(conn, _client_key(bucket), limits, now)
        _maybe_prune(conn, now)
    return retry_after


def limited(bucket: str):
    """Decorate a view so that each client may call it only as often as ``RATELIMIT_<BUCKET>`` allows."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            retry_after = hit(bucket)
            if retry_after:
                return too_many(retry_after)
            return view(*args, **kwargs)

        return wrapper

    return decorate

"""Per-client rate limits on writes: a small in-process sliding window.

Why not flask-limiter: the limits we need are two buckets (new proposals, supports) keyed on the
client address, and an in-process window is thirty lines with no new dependency and nothing to
configure. Its limitation is that each server process counts on its own, so with N worker
processes a client gets up to N times the limit; under ``dialogkarta serve`` (waitress, one
process, threads) the limit is exact. A deployment with many workers behind a proxy should
rate-limit at the proxy as well. Behind a reverse proxy, wrap the app in werkzeug's
``ProxyFix`` so ``remote_addr`` is the client's address rather than the proxy's.

Configuration (``DIALOGKARTA_`` environment variables or test config):

- ``RATELIMIT_ENABLED``: ``false`` turns every limit off.
- ``RATELIMIT_PROPOSALS`` / ``RATELIMIT_SUPPORTS`` / ``RATELIMIT_LOGINS`` / ``RATELIMIT_FLAGS`` /
  ``RATELIMIT_DOWNLOADS``: limits as ``"count/period"`` joined by ``;``,
  period one of ``second``, ``minute``, ``hour``, ``day`` or a number of seconds, e.g.
  ``"10/minute;60/hour"``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from functools import wraps

from flask import current_app, request

from ..settings import parse_limits

MAX_CLIENTS = 100_000  # forget the oldest clients beyond this, so memory stays bounded


class SlidingWindow:
    """Remembers when each (bucket, client) made requests and answers whether one more is allowed."""

    def __init__(self):
        self._hits: dict[tuple, deque] = {}
        self._lock = threading.Lock()

    def hit(self, key: tuple, limits: list[tuple[int, float]], now: float | None = None) -> float:
        """Record a request; return 0 if it is allowed, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            wait = self._wait(key, limits, now)
            if not wait:
                self._record(key, now)
            return wait

    def wait(self, key: tuple, limits: list[tuple[int, float]], now: float | None = None) -> float:
        """Return the seconds until one more request would be allowed (0: now), recording nothing."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._wait(key, limits, now)

    def record(self, key: tuple, limits: list[tuple[int, float]], now: float | None = None) -> None:
        """Count one request whatever the limit says (a failed login counts even once refused)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._wait(key, limits, now)  # drops hits older than the longest period
            self._record(key, now)

    def _wait(self, key, limits, now) -> float:
        longest = max((seconds for _, seconds in limits), default=0)
        hits = self._hits.pop(key, None) or deque()
        self._hits[key] = hits  # re-inserted last: dict order is least recently used first
        while hits and hits[0] <= now - longest:
            hits.popleft()
        for count, seconds in limits:
            recent = [t for t in hits if t > now - seconds]
            if len(recent) >= count:
                return max(recent[-count] + seconds - now, 0.001)
        return 0.0

    def _record(self, key, now) -> None:
        self._hits[key].append(now)
        while len(self._hits) > MAX_CLIENTS:
            self._hits.pop(next(iter(self._hits)))

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()


def _window() -> SlidingWindow:
    return current_app.extensions.setdefault("dialogkarta.ratelimit", SlidingWindow())


def _limits(bucket: str) -> list[tuple[int, float]] | None:
    config = current_app.config
    return parse_limits(config[f"RATELIMIT_{bucket.upper()}"]) if config["RATELIMIT_ENABLED"] else None


def _client_key(bucket: str) -> tuple:
    return bucket, request.remote_addr or "-"


def too_many(retry_after: float):
    """The 429 answer, with ``Retry-After`` in whole seconds."""
    from .errors import error_response, http_message

    response = error_response(429, "rate_limited", http_message(429))
    response.headers["Retry-After"] = str(int(retry_after + 0.999))
    return response


def wait(bucket: str) -> float:
    """Return how long this client must wait before using ``bucket`` again (0: not at all)."""
    limits = _limits(bucket)
    return _window().wait(_client_key(bucket), limits) if limits else 0.0


def record(bucket: str) -> None:
    """Count one use of ``bucket`` by this client (e.g. a failed HTTP Basic or token attempt)."""
    limits = _limits(bucket)
    if limits:
        _window().record(_client_key(bucket), limits)


def limited(bucket: str):
    """Decorate a view so that each client may call it only as often as ``RATELIMIT_<BUCKET>`` allows."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            limits = _limits(bucket)
            if limits:
                retry_after = _window().hit(_client_key(bucket), limits)
                if retry_after:
                    return too_many(retry_after)
            return view(*args, **kwargs)

        return wrapper

    return decorate

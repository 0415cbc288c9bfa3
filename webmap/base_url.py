"""Absolute links from ``DIALOGKARTA_BASE_URL`` (the app's public address), never from the request's Host.

With ``BASE_URL`` set (e.g. ``https://dialog.lund.se/dalby``), Flask builds every external URL
(OGC links, permalinks, redirects) from it: ``SERVER_NAME`` takes its host, and a small WSGI
wrapper fixes the scheme and path prefix of every request, after any ``ProxyFix`` has read the
proxy's headers, so neither a forged ``Host`` nor a forged ``X-Forwarded-Host/-Proto/-Prefix``
reaches a link. Refusing unknown ``Host`` values altogether is Flask's ``TRUSTED_HOSTS``.
Without ``BASE_URL`` links follow the request, as Flask does by default.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask


def parse_base_url(text: str) -> tuple[str, str, str]:
    """Return ``(scheme, host[:port], path prefix)`` of ``text``, or raise ValueError saying what is wrong."""
    parts = urlsplit(str(text).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ValueError(
            f"DIALOGKARTA_BASE_URL={text!r}: expected the public address of the app, "
            "such as https://dialog.example.se or https://example.se/dalby (no query, no user)"
        )
    return parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")


def init_app(app: Flask) -> None:
    """Make ``BASE_URL`` (when set) the origin of every URL the app builds."""
    if not app.config.get("BASE_URL"):
        return
    scheme, host, prefix = parse_base_url(app.config["BASE_URL"])
    app.config["BASE_URL"] = f"{scheme}://{host}{prefix}"
    app.config["SERVER_NAME"] = host  # Flask 3.1: used to build URLs, no longer to refuse other hosts
    app.config["PREFERRED_URL_SCHEME"] = scheme
    app.config["APPLICATION_ROOT"] = prefix or "/"
    app.wsgi_app = FixedOrigin(app.wsgi_app, scheme, prefix)


class FixedOrigin:
    """WSGI middleware: the configured scheme and path prefix replace whatever the request claimed."""

    def __init__(self, app, scheme: str, prefix: str):
        self.app, self.scheme, self.prefix = app, scheme, prefix

    def __call__(self, environ, start_response):
        environ["wsgi.url_scheme"] = self.scheme
        path = environ.get("PATH_INFO", "")
        if self.prefix and (path == self.prefix or path.startswith(self.prefix + "/")):
            path = path[len(self.prefix) :] or "/"  # a proxy that passes the prefix on rather than stripping it
        environ["PATH_INFO"] = path
        environ["SCRIPT_NAME"] = self.prefix
        return self.app(environ, start_response)

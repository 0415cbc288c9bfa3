"""Security headers, a per-request CSP nonce, and CSRF protection for every form."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _tile_origin(tile_url: str) -> str:
    parts = urlsplit(tile_url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
    return f"{parts.scheme}://{host}" if host else ""  # settings: a scheme and a host, or a path on this site


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    tile_origin = _tile_origin(app.config["TILE_URL"])

    @app.context_processor
    def nonce_context():
        return {"csp_nonce": csp_nonce}

    @app.after_request
    def security_headers(response):
        nonce = g.get("csp_nonce")
        script_src = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
        policy = (
            "default-src 'self'; "
            f"script-src {script_src}; "
            "style-src 'self' 'unsafe-inline'; "  # Leaflet positions tiles and markers with style attributes
            f"img-src 'self' data: blob: {tile_origin}; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'"
        )
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

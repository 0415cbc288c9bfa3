"""The application factory: configuration, database, layers, i18n, security and blueprints."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from ..layers.layer_import import MAX_FEATURES, MAX_VERTICES
from ..layers.locality import DEFAULT_LOCALITY_DIR

DEFAULT_CONFIG = {
    "DATABASE_URL": None,               # default: sqlite:///<instance>/dialogkarta.sqlite
    "LOCALITY_DIR": str(DEFAULT_LOCALITY_DIR),
    "LAYER_OVERRIDE_DIR": None,         # default: <instance>/layers (upload work folders; earlier releases' imported layers)
    "LAYER_MAX_FEATURES": MAX_FEATURES,  # an imported layer with more features is refused ...
    "LAYER_MAX_VERTICES": MAX_VERTICES,  # ... and one with more vertices in all (issue 9)
    "TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "TILE_ATTRIBUTION": "© OpenStreetMap contributors",
    "RATELIMIT_ENABLED": True,
    "PROXY_COUNT": 0,                   # reverse proxies in front (X-Forwarded-For is trusted from that many)
    "CONTACT_RETENTION_DAYS": 90,       # contact details deleted this many days after a proposal is closed
    "CONTACT_MAX_RETENTION_DAYS": 1095, # ... and at the latest this long after submission, closed or not
    "PUBLIC_GRID_M": 0,                 # >0: public coordinates snapped to a grid of this many metres
    "HOLD_LINKS": True,                 # proposals whose text contains a link wait for a moderator
    "MAX_CONTENT_LENGTH": 64 * 1024,    # JSON bodies and forms; the layer upload raises its own limit
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,     # set DIALOGKARTA_SESSION_COOKIE_SECURE=true behind HTTPS
    "BABEL_DEFAULT_LOCALE": "sv",
    # One translations folder, one catalogue per domain (messages.po: resident/API, planner.po: planner);
    # Flask-Babel 4 pairs the i-th directory with the i-th domain and merges them.
    "BABEL_DOMAIN": "messages;planner",
    "BABEL_TRANSLATION_DIRECTORIES": "translations;translations",
    "LANGUAGES": ["sv", "en"],
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # staff sessions expire after 8 h (seconds)
    "LOGIN_MAX_FAILURES": 5,            # wrong passwords in a row before an account is locked ...
    "LOGIN_LOCKOUT_MINUTES": 15,        # ... for this long
    "FLAG_HIDE_THRESHOLD": 3,           # residents' flags that hide a proposal pending review
}


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: code defaults, then ``DIALOGKARTA_*`` environment variables, or ``test_config``."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("DIALOGKARTA_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_mapping(DEFAULT_CONFIG)
    if test_config is None:
        app.config.from_prefixed_env("DIALOGKARTA")
    else:
        app.config.from_mapping(test_config)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config["DATABASE_URL"] = app.config["DATABASE_URL"] or f"sqlite:///{instance / 'dialogkarta.sqlite'}"
    app.config["LAYER_OVERRIDE_DIR"] = app.config["LAYER_OVERRIDE_DIR"] or str(instance / "layers")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)

    if int(app.config.get("PROXY_COUNT") or 0) > 0:
        # Behind N reverse proxies: trust their X-Forwarded-* so rate limits and flags see the client.
        from werkzeug.middleware.proxy_fix import ProxyFix
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    from . import db, errors, i18n, security
    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    _register_blueprints(app)
    return app


def _instance_secret(instance: Path) -> str:
    # Kept in the instance folder so sessions survive restarts and are shared by workers.
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _register_blueprints(app: Flask) -> None:
    from . import api, ogc, planner, resident
    app.register_blueprint(resident.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(planner.bp, url_prefix="/planner")
    from . import activity, auth, moderation
    auth.init_app(app)
    app.register_blueprint(auth.bp, url_prefix="/planner")
    app.register_blueprint(activity.bp)
    app.register_blueprint(moderation.bp)
    app.register_blueprint(ogc.bp, url_prefix="/ogc")
    from . import downloads
    app.register_blueprint(downloads.bp)  # /api/export/..., /planner/export/..., /planner/layers

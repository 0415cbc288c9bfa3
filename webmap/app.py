"""The application factory: configuration, database, layers, i18n, security and blueprints."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from .. import settings
from ..layers.locality import DEFAULT_LOCALITY_DIR
from . import assets, servers, sessions

# Flask's own keys that deployments do not set; every configurable setting is declared in
# ``dialogkarta.settings``.
FLASK_DEFAULTS = {
    "MAX_CONTENT_LENGTH": 64 * 1024,  # JSON bodies and forms; the layer upload raises its own limit
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "BABEL_DEFAULT_LOCALE": "sv",
    # One translations folder, one catalogue per domain (messages.po: resident/API, planner.po: planner);
    # Flask-Babel 4 pairs the i-th directory with the i-th domain and merges them.
    "BABEL_DOMAIN": "messages;planner",
    "BABEL_TRANSLATION_DIRECTORIES": "translations;translations",
}


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: code defaults, then ``DIALOGKARTA_*`` environment variables, or ``test_config``."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("DIALOGKARTA_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path, static_url_path=assets.static_url_path())
    app.config.from_mapping(FLASK_DEFAULTS)
    app.config.from_mapping(settings.defaults())
    if test_config is None:
        app.config.from_prefixed_env("DIALOGKARTA")
    else:
        app.config.from_mapping(test_config)
    app.config.update(settings.validated(app.config))
    servers.check_shared_settings(app.config)  # before the per-instance defaults below fill anything in
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config["DATABASE_URL"] = app.config["DATABASE_URL"] or f"sqlite:///{instance / 'dialogkarta.sqlite'}"
    app.config["LOCALITY_DIR"] = app.config["LOCALITY_DIR"] or str(DEFAULT_LOCALITY_DIR)
    app.config["LAYER_OVERRIDE_DIR"] = app.config["LAYER_OVERRIDE_DIR"] or str(instance / "layers")
    app.config["PHOTO_DIR"] = app.config["PHOTO_DIR"] or str(instance / "photos")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)
    app.session_interface = sessions.CookieSessions()

    from . import base_url

    base_url.init_app(app)  # inside ProxyFix, so the configured origin wins over forwarded headers
    if app.config["PROXY_COUNT"] > 0:
        # Behind N reverse proxies: trust their X-Forwarded-* so rate limits and flags see the client.
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    from . import compression, db, errors, i18n, localtime, security

    db.init_app(app)
    i18n.init_app(app)
    localtime.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    compression.init_app(app)
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
    from . import downloads, surveys

    app.register_blueprint(downloads.bp)  # /api/export/..., /planner/export/..., /planner/layers
    app.register_blueprint(surveys.bp, url_prefix="/api/surveys")
    from . import survey_page

    app.register_blueprint(survey_page.bp)  # /s/<slug>
    from . import survey_results

    app.register_blueprint(survey_results.bp, url_prefix="/planner/surveys")
    from . import view_summary

    app.register_blueprint(view_summary.bp)  # /api/proposals/summary: the resident map's view in words
    from . import proposal_shapes_api

    app.register_blueprint(proposal_shapes_api.bp)  # /api/proposals/shapes: line and area proposals for the map
    from . import offline

    app.register_blueprint(offline.bp)  # /sw.js, /manifest.webmanifest, /api/proposals/supported
    from . import photos

    app.register_blueprint(photos.bp)  # /photos/<sha256>.jpg, /planner/photos/<id>/<decision>
    from . import workbook_pages

    app.register_blueprint(workbook_pages.bp)  # /planner/workbook: print the paper workbook, type returned ones in

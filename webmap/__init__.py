"""The Dialogkarta web application: Flask app factory, blueprints, map and CLI."""

from .app import create_app

__all__ = ["create_app"]

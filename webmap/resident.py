"""Resident pages: the map of the locality, proposal permalinks and the privacy notice."""
from __future__ import annotations

from flask import Blueprint, render_template

from webmap import db

bp = Blueprint("resident", __name__)


@bp.get("/")
def index():
    registry = db.registry()
    return render_template("resident/index.html", locality=registry.locality, layers=list(registry))

"""OGC API – Features under /ogc (issue 5): placeholder until the endpoint lands."""
from flask import Blueprint

bp = Blueprint("ogc", __name__)

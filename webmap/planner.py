"""Planner workspace under /planner (issue 4): placeholder until the workspace lands."""
from flask import Blueprint

bp = Blueprint("planner", __name__)

"""Dialogkarta: a geospatial planning and participation map (the installed package's face)."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dialogkarta")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

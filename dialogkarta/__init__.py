"""Dialogkarta: a geospatial planning and participation map (the installed package's face)."""

import os
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dialogkarta")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

# GDAL drivers that, picked by a file's content, follow other data sources (VRT and GDALG name
# files, databases, URLs or whole pipelines; a WFS service file names a server). GDAL reads
# GDAL_SKIP once, when pyogrio is first imported, and this package is imported before any of its
# modules imports pyogrio. Imports are pinned to one driver anyway (geo/formats.py); this is the
# second line.
GDAL_SKIP = ("OGR_VRT", "VRT", "GDALG", "WFS", "GPSBabel", "HTTP")
os.environ["GDAL_SKIP"] = " ".join(dict.fromkeys([*os.environ.get("GDAL_SKIP", "").split(), *GDAL_SKIP]))

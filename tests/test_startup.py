"""A fast start: creating the app and loading the command line import none of the heavy scientific libraries."""

import subprocess
import sys

HEAVY = ("geopandas", "pandas", "numpy", "shapely", "pyproj", "pyogrio", "scipy", "folium", "fpdf", "segno")

PROGRAM = """
import sys, tempfile
from dialogkarta.cli import cli
from dialogkarta.webmap.app import create_app
folder = tempfile.mkdtemp()
create_app({"DATABASE_URL": f"sqlite:///{folder}/start.sqlite", "INSTANCE_PATH": folder, "SECRET_KEY": "start"})
print(",".join(sorted(name for name in %r if name in sys.modules)))
"""


def test_the_app_and_cli_start_without_the_heavy_libraries():
    # A fresh interpreter: the test session itself has imported everything long ago.
    result = subprocess.run([sys.executable, "-c", PROGRAM % (HEAVY,)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""

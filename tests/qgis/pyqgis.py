"""Drive PyQGIS from the tests: Debian's Python runs ``probe.py`` in a child process; answers come back as JSON.

PyQGIS lives in the system Python (``/usr/bin/python3`` with ``python3-qgis``), not in our venv, so
nothing here imports ``qgis``. Without it the QGIS tests skip, unless ``DIALOGKARTA_REQUIRE_QGIS=1``
(CI), where they fail instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

SYSTEM_PYTHON = os.environ.get("DIALOGKARTA_QGIS_PYTHON", "/usr/bin/python3")
PROBE = Path(__file__).with_name("probe.py")
REQUIRED = os.environ.get("DIALOGKARTA_REQUIRE_QGIS") == "1"
TIMEOUT_S = 300


@lru_cache(maxsize=1)
def qgis_missing() -> str | None:
    """Return why PyQGIS cannot run here, or None when it can."""
    try:
        done = subprocess.run(
            [SYSTEM_PYTHON, "-I", "-c", "import qgis.core"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(Path(os.environ.get("TMPDIR", "/tmp"))),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{SYSTEM_PYTHON} cannot run: {exc}"
    if done.returncode:
        return (
            f"PyQGIS is not importable by {SYSTEM_PYTHON} (apt-get install python3-qgis qgis-providers): "
            f"{done.stderr.strip()[-300:]}"
        )
    return None


def require_qgis() -> None:
    """Skip the calling test without PyQGIS, or fail it when CI requires QGIS."""
    reason = qgis_missing()
    if reason is None:
        return
    if REQUIRED:
        pytest.fail(f"DIALOGKARTA_REQUIRE_QGIS=1 but {reason}")
    pytest.skip(reason)


def _env(home: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "QGIS", "GDAL", "CPL_", "PROJ"))
    }
    # Headless, and QGIS's profile, auth database and caches in the test's own folder, never $HOME.
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_RUNTIME_DIR=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    return env


def run_qgis(steps: list[dict], folder: Path) -> dict:
    """Run ``steps`` (see ``probe.py``) in one PyQGIS process; return ``{"qgis", "steps", "log", "stderr"}``."""
    require_qgis()
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "qgis-home"
    home.mkdir(exist_ok=True)
    os.chmod(home, 0o700)
    task, result = folder / "qgis-task.json", folder / "qgis-result.json"
    task.write_text(json.dumps({"steps": steps}, ensure_ascii=False), encoding="utf-8")
    result.unlink(missing_ok=True)
    done = subprocess.run(
        [SYSTEM_PYTHON, "-I", str(PROBE), str(task), str(result)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=_env(home),
        cwd=folder,
    )
    if not result.exists():
        raise AssertionError(f"PyQGIS wrote no result (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    answer = json.loads(result.read_text(encoding="utf-8"))
    answer["stderr"] = done.stderr  # GDAL prints its warnings here, not to QGIS's message log
    for step, out in zip(steps, answer["steps"], strict=True):
        assert "error" not in out, f"PyQGIS step {step['do']} failed: {out['error']}"
    return answer


def gdal_warnings(answer: dict) -> list[str]:
    """GDAL's warnings and errors while QGIS worked: CPL lines on stderr, and what the OGR provider logged."""
    printed = [line for line in answer.get("stderr", "").splitlines() if re.match(r"(Warning|ERROR) \d+:", line)]
    logged = [e["message"] for e in answer.get("log", []) if e["level"] >= 1 and "OGR" in e["tag"].upper()]
    return printed + logged

"""Public downloads built once per data fingerprint and kept on disk, so a request costs a file send.

An export of 100 000 proposals takes 10–20 s to build; residents and GIS clients ask for the
same file again and again. Each variant (layer, format, CRS, BOM) has one file in
``<instance>/cache/downloads/``, named by the variant and the data it was built from (the store's
``conditional.data_version``: the store's fingerprint, the imported layers' versions, the locality's
files; and ``PUBLIC_GRID_M``). A change of data gives a new name;
the first request after it builds the file (one build at a time per variant in this process,
later requests wait for it) and removes the variant's older file. Planner downloads are never
cached: they are personal (contacts) and must show the latest state.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from ..layers import export
from ..layers.export import Audience
from . import conditional, db

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def cache_dir() -> Path:
    return Path(current_app.instance_path) / "cache" / "downloads"


def _digest(value) -> str:
    return hashlib.sha256(repr(value).encode("utf-8")).hexdigest()[:24]


def data_key(audience: Audience) -> str:
    """Return the digest of everything a public download is built from."""
    return _digest((conditional.data_version(), audience.grid_m))


def cached_export(name: str, fmt: str, crs: str | None, bom: bool, audience: Audience) -> tuple[BinaryIO, str]:
    """Return the built export, opened, and its ETag; build it first if the data changed."""
    variant = _digest((name, fmt, crs, bom))
    key = data_key(audience)
    folder = cache_dir()
    path = folder / f"{variant}-{key}.{fmt}"
    with _lock(variant):
        try:
            return open(path, "rb"), key  # noqa: SIM115 (sent and closed by the response)
        except FileNotFoundError:
            pass
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{variant}-{uuid.uuid4().hex}.tmp.{fmt}"
        try:
            export.export_to_file(db.engine(), db.registry(), name, fmt, temp, crs=crs, bom=bom, audience=audience)
            # Opened before it appears under its name: another process may remove it as "older".
            handle = open(temp, "rb")  # noqa: SIM115 (sent and closed by the response)
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        for older in folder.glob(f"{variant}-*.{fmt}"):
            if older != path:
                older.unlink(missing_ok=True)  # a request still sending it keeps its open file
        return handle, key


def _lock(variant: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(variant, threading.Lock())

"""Multi-server mode: what several app servers on one store must be told explicitly, checked at start.

With ``SERVERS`` above 1 each server has its own instance folder, so nothing may default to a
file in it: the secret (sessions, CSRF tokens and the keyed hashes of addresses must verify on
every server), the store (each would get its own SQLite file) and the photo folder (a photo
sent through one server must be found by the others). Everything else the servers must agree on
lives in the store: rate-limit counts, session versions, tokens, imported layers, and the
versions every per-process cache is keyed on. One server (the default) needs none of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..settings import SettingsError

SHARED = {
    "SECRET_KEY": "signs sessions, CSRF tokens and the hashes of addresses; every server needs the same one",
    "DATABASE_URL": "the one store every server uses (otherwise each keeps an SQLite file in its instance folder)",
    "PHOTO_DIR": "a folder every server reads and writes (network storage), so a photo sent to one is found by all",
}


def check_shared_settings(config: Mapping[str, Any]) -> None:
    """Refuse to start several servers (``SERVERS`` > 1) with a per-instance default for a shared thing."""
    servers = config["SERVERS"]
    missing = [name for name in SHARED if not config.get(name)]
    if servers > 1 and missing:
        lines = "\n  ".join(f"DIALOGKARTA_{name}: {SHARED[name]}" for name in missing)
        raise SettingsError(
            f"DIALOGKARTA_SERVERS={servers} (several app servers on one store) needs these set explicitly:\n  {lines}"
        )

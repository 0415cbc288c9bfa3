"""Proposals' photos: files named by their content's SHA-256 in a folder, rows in ``proposal_photos``.

A photo file is written atomically (a temporary file in the same folder, flushed to disk, then
renamed into place) and before its row is committed, so a crash leaves at worst a file no row
names, never a half file and never a row without its file. ``orphan_files`` and ``sweep_orphans``
find and remove such files. A photo is ``pending`` until a moderator publishes or rejects it;
a rejected photo's file is deleted unless another proposal's photo has the same content.
Nothing here knows Flask.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from ..geo.errors import UserError
from .photo_image import PreparedPhoto
from .schema import audit_log, proposal_photos, proposals
from .store import aware, utcnow

STATUSES = ("pending", "published", "rejected")
DECISIONS = {"publish": "published", "reject": "rejected"}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SUFFIX = ".jpg"
TEMP_PREFIX = ".incoming-"
ORPHAN_GRACE_S = 3600  # a file younger than this may belong to a proposal whose transaction has not committed yet


class PhotoDecisionError(UserError):
    code = "photo_decision"


@dataclass(frozen=True)
class Photo:
    """One proposal's photo as stored: the file's hash, its size and the moderation state."""

    id: int
    proposal_id: int
    sha256: str
    width: int
    height: int
    bytes: int
    status: str
    decided_at: object = None

    @property
    def file_name(self) -> str:
        return self.sha256 + SUFFIX


def url_path(photo: Photo) -> str:
    """The photo's address on the app, relative to its base URL (exports name photos by it)."""
    return f"/photos/{photo.file_name}"


def file_path(folder: Path | str, sha256: str) -> Path:
    """Return where the photo with this hash is kept; refuse anything that is not a SHA-256 in hex."""
    if not SHA256.match(sha256):
        raise ValueError(f"expected a SHA-256 in lower-case hex, got {sha256!r}")
    return Path(folder) / (sha256 + SUFFIX)


def write_file(folder: Path | str, photo: PreparedPhoto) -> Path:
    """Write the photo's bytes as ``<sha256>.jpg`` atomically; a file already there has the same content."""
    target = file_path(folder, photo.sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return target
    write_atomically(target, photo.jpeg)
    return target


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file in its folder, flushed, renamed into place and synced:
    a crash leaves the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    # The rename is durable once the folder's entry is on disk too (POSIX; a no-op where folders cannot be opened).
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def add(conn: Connection, proposal_id: int, photo: PreparedPhoto, now=None) -> int:
    """Record the photo of a new proposal as pending (its file must already be written); return the row id."""
    result = conn.execute(
        insert(proposal_photos).values(
            proposal_id=proposal_id,
            sha256=photo.sha256,
            width=photo.width,
            height=photo.height,
            bytes=len(photo.jpeg),
            status="pending",
            created_at=now or utcnow(),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _photo(row) -> Photo:
    return Photo(
        id=row.id,
        proposal_id=row.proposal_id,
        sha256=row.sha256,
        width=row.width,
        height=row.height,
        bytes=row.bytes,
        status=row.status,
        decided_at=aware(row.decided_at),
    )


def of_proposal(conn: Connection, proposal_id: int) -> Photo | None:
    """Return the proposal's photo, whatever its state, or None."""
    row = conn.execute(select(proposal_photos).where(proposal_photos.c.proposal_id == proposal_id)).first()
    return _photo(row) if row else None


def published_of(conn: Connection, proposal_id: int) -> Photo | None:
    """Return the proposal's photo if a moderator has published it (what the public may see), else None."""
    photo = of_proposal(conn, proposal_id)
    return photo if photo and photo.status == "published" else None


def by_ids(conn: Connection, proposal_ids: list[int]) -> dict[int, Photo]:
    """Return the photos of these proposals, by proposal id."""
    if not proposal_ids:
        return {}
    rows = conn.execute(select(proposal_photos).where(proposal_photos.c.proposal_id.in_(proposal_ids)))
    return {row.proposal_id: _photo(row) for row in rows}


def statuses_of_file(conn: Connection, sha256: str) -> set[str]:
    """Return the states of every photo stored under this hash (several proposals may share one file)."""
    return set(conn.execute(select(proposal_photos.c.status).where(proposal_photos.c.sha256 == sha256)).scalars())


def file_is_public(conn: Connection, sha256: str) -> bool:
    """Whether anyone may see this file: a published photo of a proposal the public can see (not hidden)."""
    query = (
        select(proposal_photos.c.id)
        .join(proposals, proposals.c.id == proposal_photos.c.proposal_id)
        .where(proposal_photos.c.sha256 == sha256, proposal_photos.c.status == "published", proposals.c.hidden.is_(False))
        .limit(1)
    )
    return conn.execute(query).first() is not None


def pending(conn: Connection, limit: int = 200) -> list[dict]:
    """Return the photos waiting for a moderator, oldest first, with their proposal's public id and title."""
    query = (
        select(proposal_photos, proposals.c.public_id, proposals.c.title)
        .join(proposals, proposals.c.id == proposal_photos.c.proposal_id)
        .where(proposal_photos.c.status == "pending")
        .order_by(proposal_photos.c.created_at, proposal_photos.c.id)
        .limit(limit)
    )
    return [{"photo": _photo(row), "public_id": row.public_id, "title": row.title} for row in conn.execute(query)]


def decide(conn: Connection, photo_id: int, decision: str, folder: Path | str, role: str, user_id: int | None, now=None) -> Photo:
    """Publish or reject a photo (``decision`` is ``publish`` or ``reject``); audit-logged with the user id.

    A rejected photo's file is deleted at once unless another non-rejected photo has the same
    content. Deleting before the commit is safe: a rejected row never needs its file.
    """
    if decision not in DECISIONS:
        raise PhotoDecisionError(
            "Okänt beslut: välj publicera eller avvisa.", "Unknown decision: choose publish or reject.", field="decision"
        )
    row = conn.execute(select(proposal_photos).where(proposal_photos.c.id == photo_id).with_for_update()).first()
    if row is None:
        raise PhotoDecisionError("Bilden finns inte.", "The photo does not exist.", field="photo")
    if row.status == "rejected":  # its file is gone: publishing it would point at nothing
        raise PhotoDecisionError(
            "Bilden är redan avvisad och borttagen.", "The photo has already been rejected and deleted.", field="photo"
        )
    now = now or utcnow()
    status = DECISIONS[decision]
    conn.execute(
        update(proposal_photos).where(proposal_photos.c.id == photo_id).values(status=status, decided_by=user_id, decided_at=now)
    )
    conn.execute(
        insert(audit_log).values(
            at=now,
            action=f"photo_{decision}",
            proposal_id=row.proposal_id,
            detail=f"photo {row.sha256[:12]}",
            role=role,
            user_id=user_id,
        )
    )
    if status == "rejected" and statuses_of_file(conn, row.sha256) <= {"rejected"}:
        file_path(folder, row.sha256).unlink(missing_ok=True)
    return _photo(conn.execute(select(proposal_photos).where(proposal_photos.c.id == photo_id)).one())


def orphan_files(conn: Connection, folder: Path | str, grace_s: float = ORPHAN_GRACE_S) -> list[Path]:
    """Return files in the photo folder that no pending or published photo names (older than ``grace_s``)."""
    root = Path(folder)
    if not root.is_dir():
        return []
    kept = set(
        conn.execute(select(proposal_photos.c.sha256).where(proposal_photos.c.status.in_(("pending", "published")))).scalars()
    )
    cutoff = time.time() - grace_s
    orphans = []
    for path in sorted(root.iterdir()):
        if not path.is_file() or path.stat().st_mtime > cutoff:
            continue
        if path.name.startswith(TEMP_PREFIX) or (path.suffix == SUFFIX and path.stem not in kept and SHA256.match(path.stem)):
            orphans.append(path)
    return orphans


def sweep_orphans(conn: Connection, folder: Path | str, grace_s: float = ORPHAN_GRACE_S) -> int:
    """Delete the orphan files (see ``orphan_files``); return how many."""
    found = orphan_files(conn, folder, grace_s)
    for path in found:
        path.unlink(missing_ok=True)
    return len(found)

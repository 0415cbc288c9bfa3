"""Photo files beside a backup: copied to ``<backup>.photos/`` and back, each checked against the SHA-256 it is named by.

The store names photos by the hash of their bytes, so a copy is verified by hashing it, a copy already
there is never written again, and a file whose bytes do not match its name is refused. Restoring adds
files before the store is replaced, so a restored store never names a photo its folder lacks; a file
no row names is swept later like any orphan (``photos.sweep_orphans``). Nothing here knows Flask.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, select

from .photos import SHA256, SUFFIX, file_path, write_atomically
from .schema import proposal_photos

FILE_MAX_BYTES = 64 * 1024 * 1024  # far above any photo the app stores (PHOTO_MAX_BYTES is checked before it is recoded)


class PhotoBackupError(Exception):
    """A backup's photo folder that cannot be restored from; nothing was changed."""


@dataclass
class Copied:
    written: int = 0  # files copied
    present: int = 0  # files the target already held
    missing: list[str] = field(default_factory=list)  # hashes the store names but the source lacks


def folder_for(backup: str | os.PathLike) -> Path:
    """The photo folder that belongs to a backup file: ``store.sqlite`` -> ``store.sqlite.photos``."""
    backup = Path(backup)
    return backup.with_name(backup.name + ".photos")


def _digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _copy(source: Path, target: Path) -> None:
    write_atomically(target, source.read_bytes())  # a photo is a few MB at most (FILE_MAX_BYTES bounds a backup's)


def back_up(conn: Connection, photo_dir: str | os.PathLike, target: str | os.PathLike) -> Copied:
    """Copy the file of every pending or published photo into ``target`` (a rejected photo's file is already gone)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    kept = sorted(
        set(
            conn.execute(select(proposal_photos.c.sha256).where(proposal_photos.c.status.in_(("pending", "published")))).scalars()
        )
    )
    result = Copied()
    for sha256 in kept:
        source, copy = file_path(Path(photo_dir), sha256), file_path(target, sha256)
        if copy.is_file() and _digest(copy) == sha256:
            result.present += 1
        elif not source.is_file():
            result.missing.append(sha256)
        else:
            _copy(source, copy)
            result.written += 1
    return result


def check_folder(folder: str | os.PathLike) -> list[Path]:
    """Return the photo files of a backup's folder; raise ``PhotoBackupError`` naming the first file that is not one."""
    files = []
    for path in sorted(Path(folder).iterdir()):
        name = path.name
        if path.is_symlink() or not path.is_file():
            raise PhotoBackupError(f"{name} in {folder} is not a plain file.")
        if not (name.endswith(SUFFIX) and SHA256.match(name.removesuffix(SUFFIX))):
            raise PhotoBackupError(f"{name} in {folder} is not named <sha256>{SUFFIX}.")
        if path.stat().st_size > FILE_MAX_BYTES:
            raise PhotoBackupError(f"{name} in {folder} is larger than any photo ({FILE_MAX_BYTES} bytes).")
        if _digest(path) != name.removesuffix(SUFFIX):
            raise PhotoBackupError(f"{name} in {folder} does not hold the bytes its name says: it was changed.")
        files.append(path)
    return files


def restore(folder: str | os.PathLike, photo_dir: str | os.PathLike) -> Copied:
    """Add the backup's photo files the photo folder lacks, after checking every one (nothing is written if one fails)."""
    files = check_folder(folder)
    photo_dir = Path(photo_dir)
    photo_dir.mkdir(parents=True, exist_ok=True)
    result = Copied()
    for path in files:
        target = photo_dir / path.name
        if target.is_file() and _digest(target) == path.name.removesuffix(SUFFIX):
            result.present += 1
        else:
            _copy(path, target)
            result.written += 1
    return result

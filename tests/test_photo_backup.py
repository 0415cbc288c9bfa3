"""Photos travel with a backup: `backup FILE` copies every kept photo to FILE.photos/, `restore FILE`
puts back those the photo folder lacks, and a backup folder holding anything but intact photos is
refused before the store or the folder is touched."""

from __future__ import annotations

import hashlib
import os

import pytest
from sqlalchemy import func, select

from dialogkarta.layers import photo_backup, photos
from dialogkarta.layers.photo_image import PreparedPhoto
from dialogkarta.layers.schema import proposals
from dialogkarta.webmap import db
from tests.planner_helpers import add_proposal


def _photo(app, content: bytes, status: str = "pending") -> str:
    """A proposal with a stored photo (its file and row); return the file's hash."""
    sha256 = hashlib.sha256(content).hexdigest()
    record = add_proposal(app, 13.3551, 55.6698, title=f"Med foto {sha256[:6]}")
    folder = app.config["PHOTO_DIR"]
    photos.write_file(folder, PreparedPhoto(content, sha256, 4, 3))
    with app.app_context(), db.transaction() as conn:
        proposal_id = conn.execute(select(proposals.c.id).where(proposals.c.public_id == record["public_id"])).scalar_one()
        photo_id = photos.add(conn, proposal_id, PreparedPhoto(content, sha256, 4, 3))
        if status != "pending":
            photos.decide(
                conn, photo_id, {"published": "publish", "rejected": "reject"}[status], folder, role="moderator", user_id=None
            )
    return sha256


def _count(app) -> int:
    with app.app_context(), db.reading() as conn:
        return conn.execute(select(func.count()).select_from(proposals)).scalar_one()


def test_a_backup_carries_the_kept_photos_and_a_restore_puts_back_the_lost_ones(app, runner, tmp_path):
    kept = _photo(app, b"pending photo bytes")
    shown = _photo(app, b"published photo bytes", "published")
    gone = _photo(app, b"rejected photo bytes", "rejected")
    backup = tmp_path / "saved" / "store.backup"  # a SQLite file or a pg_dump archive, as the store is
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert "2 written" in result.output
    folder = tmp_path / "saved" / "store.backup.photos"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{h}.jpg" for h in (kept, shown))
    assert not (folder / f"{gone}.jpg").exists()

    photo_dir = app.config["PHOTO_DIR"]
    for sha256 in (kept, shown):
        photos.file_path(photo_dir, sha256).unlink()  # the disk with the photos is lost
    result = runner.invoke(args=["restore", "--yes", str(backup)])
    assert result.exit_code == 0, result.output
    assert "2 written" in result.output
    for sha256, content in ((kept, b"pending photo bytes"), (shown, b"published photo bytes")):
        assert photos.file_path(photo_dir, sha256).read_bytes() == content
    assert app.test_client().get(f"/photos/{shown}.jpg").status_code == 200


def test_a_second_backup_into_the_same_folder_writes_only_what_is_new(app, tmp_path):
    first = _photo(app, b"one")
    target = tmp_path / "photos-copy"
    with app.app_context(), db.reading() as conn:
        assert photo_backup.back_up(conn, app.config["PHOTO_DIR"], target).written == 1
    second = _photo(app, b"two")
    photos.file_path(app.config["PHOTO_DIR"], first).unlink()  # still named by the store, but lost
    with app.app_context(), db.reading() as conn:
        copied = photo_backup.back_up(conn, app.config["PHOTO_DIR"], target)
    assert (copied.written, copied.present, copied.missing) == (1, 1, [])
    photos.file_path(target, second).unlink()
    photos.file_path(app.config["PHOTO_DIR"], second).unlink()
    with app.app_context(), db.reading() as conn:
        assert photo_backup.back_up(conn, app.config["PHOTO_DIR"], target).missing == [second]


def _tampered(folder, kind):
    good = hashlib.sha256(b"real").hexdigest()
    if kind == "changed bytes":
        (folder / f"{good}.jpg").write_bytes(b"not what the name says")
    elif kind == "other name":
        (folder / "evil.sh").write_bytes(b"#!/bin/sh")
    elif kind == "link":
        os.symlink("/etc/passwd", folder / f"{good}.jpg")
    elif kind == "folder":
        (folder / f"{good}.jpg").mkdir()
    return "changed" if kind == "changed bytes" else ("named" if kind == "other name" else "plain file")


@pytest.mark.parametrize("kind", ["changed bytes", "other name", "link", "folder"])
def test_a_backup_whose_photo_folder_was_tampered_with_is_refused_and_changes_nothing(app, runner, tmp_path, kind):
    _photo(app, b"pending photo bytes")
    backup = tmp_path / "store.backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    add_proposal(app, 13.3552, 55.6699, title="Efter säkerhetskopian")
    before_photos = sorted(os.listdir(app.config["PHOTO_DIR"]))
    message = _tampered(photo_backup.folder_for(backup), kind)
    result = runner.invoke(args=["restore", "--yes", str(backup)])
    assert result.exit_code != 0 and "Refusing to restore" in result.output and message in result.output
    assert _count(app) == 2  # the store was not replaced
    assert sorted(os.listdir(app.config["PHOTO_DIR"])) == before_photos


def test_backup_without_photos_leaves_no_folder(app, runner, tmp_path):
    _photo(app, b"pending photo bytes")
    backup = tmp_path / "store.backup"
    result = runner.invoke(args=["backup", "--no-photos", str(backup)])
    assert result.exit_code == 0, result.output
    assert not photo_backup.folder_for(backup).exists()

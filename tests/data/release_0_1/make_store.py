"""Regenerate the stores release 0.1 made (commit ee7348c), which tests/test_migrations.py upgrades.

Run from the repository root: ``python tests/data/release_0_1/make_store.py [--postgresql URL]``.
It exports that commit's code with ``git archive`` into a temporary folder, arranges it as the
installed ``dialogkarta`` package, and runs it in a child Python to create a store with that
release's ``init_db`` and three rows in every table (foreign keys pointing at real rows, Swedish
letters in the text, NULL in every nullable column of the third row): ``store.sqlite`` here, and
with ``--postgresql`` (an empty database without PostGIS, as that release knew none) ``store.pgdump``
(``pg_dump --format=custom --no-owner``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

RELEASE = "ee7348c"
HERE = Path(__file__).resolve().parent

FILL = r"""
import sys
from datetime import UTC, date, datetime
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, LargeBinary, insert, select, func
from dialogkarta.layers import schema, store

engine = store.make_engine(sys.argv[1])
store.init_db(engine)


def value(table, column, i):
    if column.foreign_keys or (column.primary_key and isinstance(column.type, Integer)):
        return i
    if i == 3 and column.nullable:
        return None
    kind = column.type
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, Integer):
        return 10 * i
    if isinstance(kind, Float):
        return {"lon": 13.17 + i / 1000, "lat": 55.667 + i / 1000}.get(column.name, 1.5 * i)
    if isinstance(kind, DateTime):
        return datetime(2026, 11, i, 12, 30, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2026, 11, i)
    if isinstance(kind, LargeBinary):
        return bytes([i]) * 16
    text = f"{table.name} {column.name} {i} åäö"
    return text[: kind.length] if getattr(kind, "length", None) else text


with engine.begin() as conn:
    for table in schema.metadata.sorted_tables:
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            continue  # store_version: init_db wrote its row
        conn.execute(insert(table), [{c.name: value(table, c, i) for c in table.columns} for i in (1, 2, 3)])
"""


def release_code(folder: Path) -> Path:
    """Export the release's code into ``folder`` laid out as the installed ``dialogkarta`` package."""
    archive = subprocess.run(
        ["git", "archive", RELEASE, "dialogkarta", "geo", "layers", "webmap", "data"], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    for area in ("geo", "layers", "webmap", "data"):
        shutil.move(str(folder / area), str(folder / "dialogkarta" / area))
    return folder


def fill(code: Path, url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(code)}  # ahead of the editable install's finder
    subprocess.run([sys.executable, "-c", FILL, url], check=True, env=env, cwd=code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", help="URL of an empty PostgreSQL database (no PostGIS) to make store.pgdump in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        code = release_code(Path(folder))
        target = HERE / "store.sqlite"
        target.unlink(missing_ok=True)
        fill(code, f"sqlite:///{target}")
        with sqlite3.connect(target) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            conn.execute("VACUUM")
        conn.close()
        print(f"wrote {target}")
        if args.postgresql:
            fill(code, args.postgresql)
            dsn = args.postgresql.replace("postgresql+psycopg://", "postgresql://")
            subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={HERE / 'store.pgdump'}", dsn], check=True)
            print(f"wrote {HERE / 'store.pgdump'}")


if __name__ == "__main__":
    main()

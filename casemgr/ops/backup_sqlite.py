"""SQLite: a backup through the online backup API, a restore the same way back.

``Connection.backup`` with its default of all pages in one step copies the
database within one read transaction: a consistent snapshot even while the app
writes (in WAL mode writers are not blocked). SQLite copies page by page
through its own cache, so memory does not grow with the database.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from casemgr.ops.backup_manifest import NEWEST_CHECKPOINT, BackupError, describe_tables

DUMP_NAME = "database.sqlite3"
BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Snapshot:
    schema_revision: str
    tables: dict[str, int]
    audit_checkpoint: str | None


def database_path(database: str | None) -> Path:
    """The file of a SQLite URL's database; BackupError for an in-memory one."""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError("the database is an in-memory SQLite database: nothing to back up")
    return Path(database)


def size_needed(source: Path) -> int:
    """Bytes a copy of ``source`` takes (its pages in use)."""
    connection = _connect(source)
    try:
        pages, free, size = (
            connection.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("page_count", "freelist_count", "page_size")
        )
    finally:
        connection.close()
    return (pages - free) * size


def backup(source: Path, target: Path) -> Snapshot:
    """Copy the database ``source`` into the new file ``target``; describe the copy."""
    src = _connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # The copy is one self-contained file, whatever mode the source runs in.
            dst.execute("PRAGMA journal_mode=DELETE")
            return Snapshot(revision(dst), row_counts(dst), newest_checkpoint(dst))
        finally:
            dst.close()
    finally:
        src.close()


def restore(dump: Path, target: Path) -> None:
    """Copy the backup file ``dump`` into the empty database ``target``, in one
    transaction; a target file this made is removed again if the copy fails."""
    existed = target.exists()
    src = _read_only(dump)
    try:
        dst = _connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")  # as the app runs it
        finally:
            dst.close()
    except BaseException:
        if not existed:
            for leftover in (target, *(Path(f"{target}{end}") for end in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        raise
    finally:
        src.close()


def found_in(target: Path) -> list[str]:
    """What ``target`` already holds (tables with their rows); empty when nothing."""
    if not target.exists():
        return []
    if target.is_dir():
        return [f"{target} is a directory"]
    if target.stat().st_size == 0:
        return []
    try:
        connection = _read_only(target)
    except sqlite3.Error as exc:
        return [f"{target} cannot be opened ({exc})"]
    try:
        return describe_tables(revision_or_none(connection), row_counts(connection))
    except sqlite3.DatabaseError as exc:
        return [f"{target} is not an SQLite database ({exc})"]
    finally:
        connection.close()


def revision(connection: sqlite3.Connection) -> str:
    found = revision_or_none(connection)
    if found is None:
        raise BackupError("the database has no schema revision (alembic_version): run db upgrade")
    return found


def revision_or_none(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def newest_checkpoint(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute(NEWEST_CHECKPOINT).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def row_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {
        name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
        for name in names
    }


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(os.fspath(path))}?mode=ro", uri=True)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(os.fspath(path), timeout=BUSY_TIMEOUT_MS / 1000)
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection

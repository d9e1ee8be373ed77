"""Backups of the whole database, and their restore into an empty one (docs/deployment.md).

``make_backup`` writes a new directory: the dump (SQLite's online backup API,
or ``pg_dump --format=custom``) and ``manifest.json`` (engine, schema
revision, casemgr version, time, rows per table, each file's size and
SHA-256). Anything that stops it halfway removes the directory.

``restore_backup`` checks everything before it changes anything: the
manifest, that the engine matches, that this code knows the schema revision,
that the target database is empty, the client tools, each file's size and
SHA-256. Then it loads the dump in one transaction and compares every table's
rows with the manifest.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from casemgr.audit.services import record
from casemgr.ops import backup_postgres, backup_sqlite
from casemgr.ops.backup_manifest import (
    BackupError,
    Manifest,
    check_files,
    describe_file,
    read,
    sync_directory,
    write,
)

HOLDS = (
    "The backup holds the whole database: cases, reporters' contact details "
    "(encrypted) and messages, the stored notice letters and monthly reports (PDFs), "
    "the outbox and the audit log. It does not hold CONTACT_ENCRYPTION_KEY nor "
    "AUDIT_KEY: keep those separately. Guard it like the database (docs/deployment.md)."
)


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    tables: dict[str, int]


def casemgr_version() -> str:
    try:
        return metadata.version("casemgr")
    except metadata.PackageNotFoundError:
        return "unknown"


def make_backup(
    engine: Engine,
    path: str | os.PathLike,
    *,
    now: datetime,
    made_by: str = "command",
    pg_bin: str = "",
) -> Manifest:
    """Back up the database of ``engine`` into the new directory ``path``."""
    path = Path(path)
    _check_destination(path)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        source = backup_sqlite.database_path(engine.url.database)
        if not source.is_file():
            raise BackupError(f"the SQLite database {source} does not exist: nothing to back up")
        _check_room(path, backup_sqlite.size_needed(source))
    else:
        try:
            pg_dump = backup_postgres.dumper(engine, pg_bin)
        except OperationalError as exc:
            raise BackupError(_connection_failure(exc)) from None
    try:
        path.mkdir()
    except OSError as exc:
        raise BackupError(_write_failure(path, exc)) from None
    try:
        if sqlite:
            dump = path / backup_sqlite.DUMP_NAME
            snapshot = backup_sqlite.backup(source, dump)
            _fsync(dump)
            manifest = Manifest(
                engine="sqlite",
                schema_revision=snapshot.schema_revision,
                casemgr_version=casemgr_version(),
                created_at=now,
                server_version=sqlite3.sqlite_version,
                files=(describe_file(dump),),
                tables=snapshot.tables,
                made_by=made_by,
                audit_checkpoint=snapshot.audit_checkpoint,
            )
        else:
            dumped = backup_postgres.backup(engine, path / backup_postgres.DUMP_NAME, pg_dump)
            manifest = Manifest(
                engine="postgresql",
                schema_revision=dumped.schema_revision,
                casemgr_version=casemgr_version(),
                created_at=now,
                server_version=dumped.server_version,
                tool_version=str(dumped.tool_major),
                files=(dumped.dump,),
                tables=dumped.tables,
                made_by=made_by,
                audit_checkpoint=dumped.audit_checkpoint,
            )
        write(path, manifest)
    except BaseException as exc:
        message = _failure(path, exc)
        shutil.rmtree(path, ignore_errors=True)
        if message:
            raise BackupError(message) from None
        raise
    return manifest


def restore_backup(
    engine: Engine,
    path: str | os.PathLike,
    *,
    known_revisions: set[str],
    head: str,
    pg_bin: str = "",
) -> Restored:
    """Restore the backup in ``path`` into the empty database of ``engine``."""
    path = Path(path)
    manifest = read(path)
    engine_name = engine.dialect.name
    if manifest.engine != engine_name:
        raise BackupError(_other_engine(manifest.engine, engine_name))
    if manifest.schema_revision not in known_revisions:
        raise BackupError(
            f"the backup is of schema revision {manifest.schema_revision}, which this version "
            f"of casemgr ({casemgr_version()}, newest revision {head}) does not know: restore it "
            f"with casemgr {manifest.casemgr_version} or newer"
        )
    try:
        if engine_name == "sqlite":
            target = backup_sqlite.database_path(engine.url.database)
            _refuse_non_empty(backup_sqlite.found_in(target))
            if not target.parent.is_dir():
                raise BackupError(f"the folder of the database, {target.parent}, does not exist")
            check_files(path, manifest)
            backup_sqlite.restore(path / manifest.dump.name, target)
            tables = _sqlite_counts(target)
        else:
            _refuse_non_empty(backup_postgres.found_in(engine))
            check_files(path, manifest)
            backup_postgres.restore(
                engine,
                path / manifest.dump.name,
                dumped_by=_major(manifest.tool_version),
                source_major=_major(manifest.server_version),
                bin_dir=pg_bin,
            )
            with engine.connect() as connection:
                tables = backup_postgres.row_counts(connection)
    except OperationalError as exc:
        raise BackupError(_connection_failure(exc)) from None
    except (OSError, sqlite3.Error) as exc:
        if engine_name == "sqlite":
            target = backup_sqlite.database_path(engine.url.database)
            reason = f"restoring into {target} failed: {_write_failure(target, exc)}"
        else:
            reason = f"restoring failed: {getattr(exc, 'strerror', None) or exc}"
        raise BackupError(f"{reason}; nothing was restored") from None
    differ = [
        f"{name} {tables.get(name, 0):,} rows (backup: {rows:,})"
        for name, rows in sorted(manifest.tables.items())
        if tables.get(name, 0) != rows
    ]
    if differ:
        raise BackupError(
            "restored, but these tables do not hold the rows the manifest counted: "
            + ", ".join(differ)
        )
    return Restored(manifest, tables)


def record_backup(session: Session, path: Path, manifest: Manifest, now: datetime) -> None:
    """Audit a finished backup (after it, so it is not in it); the caller commits."""
    record(
        session,
        action="db.backup",
        now=now,
        target_type="backup",
        target_id=path.name,
        details={
            "path": str(path.resolve()),
            "engine": manifest.engine,
            "schema_revision": manifest.schema_revision,
            "made_by": manifest.made_by,
            "file": manifest.dump.name,
            "size": manifest.dump.size,
            "sha256": manifest.dump.sha256,
        },
    )


def _check_destination(path: Path) -> None:
    if path.exists() or path.is_symlink():
        raise BackupError(
            f"{path} exists: db backup writes a new directory and never overwrites one; "
            "give a new path"
        )
    parent = path.parent
    if not parent.is_dir():
        what = "does not exist" if not parent.exists() else "is not a directory"
        raise BackupError(f"the folder {parent} {what}: create it first, or give another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BackupError(f"the folder {parent} is not writable by this user: cannot create {path}")


def _check_room(path: Path, needed: int) -> None:
    free = shutil.disk_usage(path.parent).free
    if needed > free:
        raise BackupError(
            f"not enough space for {path}: the backup needs about {size_text(needed)}, the disk "
            f"has {size_text(free)} free; nothing was written"
        )


def _failure(path: Path, exc: BaseException) -> str | None:
    """The one line for a backup that stopped halfway (its directory is then removed)."""
    removed = f"; the partial backup {path} was removed"
    if isinstance(exc, BackupError):
        return f"{exc}{removed}"
    if isinstance(exc, OperationalError):
        return _connection_failure(exc) + removed
    if isinstance(exc, OSError | sqlite3.Error):
        return _write_failure(path, exc, written=_written(path)) + removed
    return None


def _write_failure(path: Path, exc: BaseException, *, written: int | None = None) -> str:
    number = getattr(exc, "errno", None)
    text = str(exc)
    limit = _file_size_limit()
    if number == errno.ENOSPC or "database or disk is full" in text:
        after = "" if written is None else f": it filled after {size_text(written)} of the backup"
        return f"no space left on the disk of {path}{after} ({_free(path.parent)} free)"
    if number == errno.EFBIG or (isinstance(exc, sqlite3.Error) and limit is not None):
        return (
            f"cannot write {path}: this process may write files of at most "
            f"{size_text(limit or 0)} (ulimit -f); the backup needs more"
        )
    if number in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {path}: {exc.strerror}"  # type: ignore[attr-defined]
    if isinstance(exc, sqlite3.Error):
        return f"cannot write {path}: SQLite says {text!r} (a full or failing disk?)"
    reason = getattr(exc, "strerror", None) or text
    return f"cannot write {path}: {reason}"


def _written(path: Path) -> int:
    try:
        return sum(item.stat().st_size for item in path.iterdir() if item.is_file())
    except OSError:
        return 0


def _file_size_limit() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else soft


def _connection_failure(exc: OperationalError) -> str:
    first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return f"cannot reach the database: {first}"


def _other_engine(backup_engine: str, target: str) -> str:
    if backup_engine == "sqlite":
        return (
            "this is a backup of a SQLite database and the configured database is "
            f"{target}: restore it into SQLite (DATABASE_URL=sqlite:///...), then move it "
            "with flask --app wsgi db copy --to postgresql://..."
        )
    return (
        f"this is a backup of a PostgreSQL database and the configured database is {target}: "
        "restore it into an empty PostgreSQL database (set DATABASE_URL to it)"
    )


def _refuse_non_empty(found: list[str]) -> None:
    if found:
        raise BackupError(
            "the database to restore into is not empty: it has "
            + ", ".join(found)
            + ". Restore only into an empty database (a new one from createdb, or a SQLite "
            "path that does not exist yet); nothing was changed"
        )


def _sqlite_counts(target: Path) -> dict[str, int]:
    connection = sqlite3.connect(target)
    try:
        return backup_sqlite.row_counts(connection)
    finally:
        connection.close()


def _fsync(path: Path) -> None:
    with open(path, "rb") as written:
        os.fsync(written.fileno())
    sync_directory(path.parent)


def _major(version: str) -> int:
    head = version.split(".")[0]
    return int(head) if head.isdigit() else 0


def _free(directory: Path) -> str:
    try:
        return size_text(shutil.disk_usage(directory).free)
    except OSError:
        return "unknown"


def size_text(count: int) -> str:
    """``532 bytes``, ``1.5 MiB``, ``2.1 GiB``."""
    if count < 1024:
        return f"{count:,} bytes"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"

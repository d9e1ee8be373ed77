"""A backup's manifest: what it holds and the SHA-256 of each file, checked before a restore.

A backup is a directory holding the database's dump (``database.sqlite3`` or
``database.pgdump``) and ``manifest.json``, written last: a directory without
one is a backup that did not finish. Files are hashed in chunks, so memory
does not grow with the size of the database.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

FORMAT = "casemgr-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
ENGINES = ("sqlite", "postgresql")
# The audit log's newest checkpoint in the snapshot (casemgr.audit.checkpoints.latest's
# order), carried in the manifest to hold against the checkpoint e-mails (docs/audit.md).
NEWEST_CHECKPOINT = "SELECT line FROM audit_checkpoints ORDER BY made_at DESC, id DESC LIMIT 1"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is one line for the operator."""


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    engine: str  # "sqlite" or "postgresql"
    schema_revision: str
    casemgr_version: str
    created_at: datetime
    server_version: str  # SQLite's library version, or the PostgreSQL server's
    files: tuple[FileEntry, ...]
    tables: dict[str, int] = field(default_factory=dict)  # rows per table, as dumped
    tool_version: str = ""  # pg_dump's major version on PostgreSQL
    made_by: str = "command"  # "command" (db backup) or "job" (the scheduled backup)
    audit_checkpoint: str | None = None  # the newest checkpoint line in the backup

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "engine": self.engine,
            "schema_revision": self.schema_revision,
            "casemgr_version": self.casemgr_version,
            "created_at": self.created_at.isoformat(),
            "server_version": self.server_version,
            "tool_version": self.tool_version,
            "made_by": self.made_by,
            "audit_checkpoint": self.audit_checkpoint,
            "holds": (
                "every table of the database: cases, reporters' contact details (encrypted), "
                "stored notice letters and monthly reports, the outbox, the audit log. "
                "Not CONTACT_ENCRYPTION_KEY nor AUDIT_KEY: keep those separately."
            ),
            "tables": self.tables,
            "files": [
                {"name": entry.name, "size": entry.size, "sha256": entry.sha256}
                for entry in self.files
            ],
        }

    @property
    def dump(self) -> FileEntry:
        return self.files[0]


def write(directory: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` through a temporary name, so that it appears whole or not at all."""
    target = directory / MANIFEST
    partial = directory / (MANIFEST + ".partial")
    with open(partial, "x", encoding="utf-8") as out:
        json.dump(manifest.as_json(), out, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, target)
    sync_directory(directory)


def read(directory: Path) -> Manifest:
    """The manifest of the backup in ``directory``; BackupError naming what is wrong."""
    if not directory.is_dir():
        what = "does not exist" if not directory.exists() else "is not a directory"
        raise BackupError(f"{directory} {what}: give the directory that db backup wrote")
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(
            f"{directory} has no {MANIFEST}: it is not a casemgr backup, or one that did not "
            "finish (a backup's manifest is written last)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BackupError(f"{path} is not valid JSON ({exc}): the manifest is damaged") from None
    return _parse(data, path)


def _parse(data: Any, path: Path) -> Manifest:
    def need(name: str, kind: type) -> Any:
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise BackupError(f"{path}: {name!r} is missing or not a {kind.__name__}")
        return value

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f'{path} is not a casemgr backup manifest (no "format": "{FORMAT}")')
    if need("format_version", int) > FORMAT_VERSION:
        raise BackupError(
            f"{path} is of backup format {data['format_version']}, newer than this casemgr "
            f"reads ({FORMAT_VERSION}): restore it with the casemgr version that made it "
            f"({data.get('casemgr_version', 'unknown')}) or a newer one"
        )
    engine = need("engine", str)
    if engine not in ENGINES:
        raise BackupError(f"{path}: engine {engine!r} is not one of {', '.join(ENGINES)}")
    try:
        created_at = datetime.fromisoformat(need("created_at", str))
    except ValueError:
        raise BackupError(f"{path}: created_at is not an ISO 8601 time") from None
    files = []
    for item in need("files", list):
        if not isinstance(item, dict):
            raise BackupError(f"{path}: each entry of 'files' must be an object")
        name, size, digest = item.get("name"), item.get("size"), item.get("sha256")
        if (
            not isinstance(name, str)
            or not name
            or Path(name).name != name
            or not isinstance(size, int)
            or not isinstance(digest, str)
            or len(digest) != 64
        ):
            raise BackupError(f"{path}: the files entry {item!r} needs a plain name, size, sha256")
        files.append(FileEntry(name, size, digest.lower()))
    if not files:
        raise BackupError(f"{path} lists no files")
    tables = data.get("tables", {})
    if not isinstance(tables, dict) or not all(isinstance(v, int) for v in tables.values()):
        raise BackupError(f"{path}: 'tables' must map table names to row counts")
    return Manifest(
        engine=engine,
        schema_revision=need("schema_revision", str),
        casemgr_version=str(data.get("casemgr_version", "")),
        created_at=created_at,
        server_version=str(data.get("server_version", "")),
        tool_version=str(data.get("tool_version", "")),
        made_by=str(data.get("made_by", "command")),
        audit_checkpoint=data.get("audit_checkpoint")
        if isinstance(data.get("audit_checkpoint"), str)
        else None,
        tables=tables,
        files=tuple(files),
    )


def check_files(directory: Path, manifest: Manifest) -> None:
    """Every file is there with the size and SHA-256 the manifest gives; else BackupError.

    Sizes are compared first (a truncated copy is found without reading it),
    then each file is hashed in chunks."""
    for entry in manifest.files:
        path = directory / entry.name
        if not path.is_file():
            raise BackupError(f"{path} is missing: the manifest lists it; the backup is incomplete")
        size = path.stat().st_size
        if size != entry.size:
            raise BackupError(
                f"{path} is {size:,} bytes, the manifest says {entry.size:,}: the file was "
                f"{'truncated' if size < entry.size else 'changed'} after the backup"
            )
    for entry in manifest.files:
        path = directory / entry.name
        if hash_file(path) != entry.sha256:
            raise BackupError(
                f"{path} does not match the SHA-256 in {MANIFEST}: the file was changed or "
                "damaged after the backup"
            )


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_file(path: Path) -> FileEntry:
    """A written file's entry: its size and SHA-256, read back in chunks."""
    return FileEntry(path.name, path.stat().st_size, hash_file(path))


class HashingWriter:
    """Writes chunks to a file while counting and hashing them (one pass over a stream)."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.size = 0
        self._digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.out.write(chunk)
        self._digest.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def describe_tables(schema_revision: str | None, tables: dict[str, int]) -> list[str]:
    """Non-empty tables first, biggest first; the schema revision if there is one."""
    if not tables:
        return []
    found = [f"{len(tables)} tables"]
    if schema_revision:
        found.append(f"schema revision {schema_revision}")
    full = sorted(
        ((rows, name) for name, rows in tables.items() if rows and name != "alembic_version"),
        reverse=True,
    )
    found += [f"{name} ({rows:,} {'row' if rows == 1 else 'rows'})" for rows, name in full[:5]]
    if not full:
        found.append("no rows")
    return found


def sync_directory(directory: Path) -> None:
    """Make a new or renamed entry of ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""PostgreSQL: ``pg_dump --format=custom`` from an exported snapshot, ``pg_restore`` back.

The backup opens a read-only REPEATABLE READ transaction, exports its
snapshot, counts every table's rows in it and runs ``pg_dump --snapshot``:
the dump and the counts of the manifest are the same moment of the database,
while the app goes on writing. pg_dump's output is streamed through this
process in chunks (hashed on the way), so memory does not grow with rows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, Connection, Engine

from casemgr.ops.backup_manifest import (
    CHUNK,
    NEWEST_CHECKPOINT,
    BackupError,
    FileEntry,
    HashingWriter,
    describe_tables,
)

DUMP_NAME = "database.pgdump"
TOOL_TIMEOUT = 60  # seconds for "--version"


@dataclass(frozen=True)
class Dumped:
    schema_revision: str
    tables: dict[str, int]
    audit_checkpoint: str | None
    server_version: str
    tool_major: int
    dump: FileEntry


def libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The connection URI for the client tools (without the password) and their
    environment (the password in PGPASSWORD, never on a command line)."""
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return dsn, env


def tool(name: str, server_major: int, bin_dir: str = "") -> tuple[str, int]:
    """The path and major version of client tool ``name`` (pg_dump, pg_restore), of
    version ``server_major`` or newer; BackupError naming what is missing."""
    install = (
        f"install PostgreSQL's client tools of version {server_major} or newer (Debian, "
        f"Ubuntu: apt-get install postgresql-client-{server_major}) and put them on PATH, or "
        "set BACKUP_PG_BIN to their directory"
    )
    if bin_dir:
        candidate = Path(bin_dir) / name
        path = str(candidate) if os.access(candidate, os.X_OK) else None
        where = f"in BACKUP_PG_BIN ({bin_dir})"
    else:
        path = shutil.which(name)
        where = "on PATH"
    if path is None:
        raise BackupError(f"{name} was not found {where}: {install}")
    try:
        answer = subprocess.run(  # noqa: S603 - a tool of our own choosing, no shell
            [path, "--version"], capture_output=True, text=True, timeout=TOOL_TIMEOUT
        )
    except OSError as exc:
        raise BackupError(f"{name} ({path}) cannot be run: {exc.strerror or exc}") from None
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", answer.stdout)
    if not found:
        raise BackupError(f"{path} --version did not name a PostgreSQL version: {install}")
    major = int(found.group(1))
    if major < server_major:
        raise BackupError(
            f"{name} ({path}) is version {major}, older than the PostgreSQL server "
            f"({server_major}): {install}"
        )
    return path, major


def server_major(connection: Connection) -> tuple[int, str]:
    number = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
    text = str(connection.exec_driver_sql("SHOW server_version").scalar_one()).split()[0]
    return number // 10000, text


@dataclass(frozen=True)
class Dumper:
    """pg_dump, checked against the server before anything is written."""

    path: str
    major: int
    server_version: str


def dumper(engine: Engine, bin_dir: str = "") -> Dumper:
    with engine.connect() as connection:
        major, version = server_major(connection)
    path, tool_major = tool("pg_dump", major, bin_dir)
    return Dumper(path, tool_major, version)


def backup(engine: Engine, target: Path, pg_dump: Dumper) -> Dumped:
    """Dump the database of ``engine`` into the new file ``target``."""
    dsn, env = libpq(engine.url)
    with engine.connect().execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    ) as connection:
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        revision = _revision(connection)
        tables = row_counts(connection)
        checkpoint = (
            connection.exec_driver_sql(NEWEST_CHECKPOINT).scalar()
            if "audit_checkpoints" in tables
            else None
        )
        command = [pg_dump.path, "--format=custom", f"--snapshot={snapshot}", "--dbname", dsn]
        dump = _stream(command, env, target)
        connection.rollback()
    return Dumped(revision, tables, checkpoint, pg_dump.server_version, pg_dump.major, dump)


def restore(engine: Engine, dump: Path, *, dumped_by: int, source_major: int, bin_dir: str = ""):
    """Load ``dump`` into the empty database of ``engine`` in one transaction."""
    dsn, env = libpq(engine.url)
    with engine.connect() as connection:
        major, version = server_major(connection)
    if major < source_major:
        raise BackupError(
            f"the backup comes from PostgreSQL {source_major}, this server is {version}: "
            f"restore it into PostgreSQL {source_major} or newer"
        )
    pg_restore, _ = tool("pg_restore", max(major, dumped_by), bin_dir)
    command = [pg_restore, "--dbname", dsn, "--no-owner", "--no-privileges"]
    command += ["--single-transaction", "--exit-on-error", str(dump)]
    with tempfile.TemporaryFile() as errors:
        code = subprocess.run(  # noqa: S603 - no shell; our own arguments
            command, stdout=subprocess.DEVNULL, stderr=errors, env=env, check=False
        ).returncode
        if code != 0:
            raise BackupError(
                f"pg_restore failed (exit status {code}): {_last_line(errors)}; it ran in one "
                "transaction, so nothing was restored"
            )


def found_in(engine: Engine) -> list[str]:
    """What the database of ``engine`` already holds; empty when nothing."""
    with engine.connect() as connection:
        relations = connection.exec_driver_sql(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND n.nspname NOT IN ('information_schema', 'pg_catalog') "
            "AND left(n.nspname, 3) <> 'pg_' "
            "ORDER BY 1, 2"
        ).all()
        if not relations:
            return []
        tables = row_counts(connection)
        found = describe_tables(_revision_or_none(connection), tables)
        others = [
            f"{schema}.{name}"
            for schema, name, kind in relations
            if kind != "S" and name not in tables
        ]
        if others:
            found.append(f"{len(others)} other relations ({', '.join(others[:5])})")
        if not found:
            found.append(f"{len(relations)} sequences")
        return found


def row_counts(connection: Connection) -> dict[str, int]:
    quote = connection.dialect.identifier_preparer.quote
    names = connection.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    ).scalars()
    return {
        name: connection.exec_driver_sql(f"SELECT count(*) FROM {quote(name)}").scalar_one()  # noqa: S608
        for name in list(names)
    }


def _revision(connection: Connection) -> str:
    found = _revision_or_none(connection)
    if found is None:
        raise BackupError("the database has no schema revision (alembic_version): run db upgrade")
    return found


def _revision_or_none(connection: Connection) -> str | None:
    exists = connection.exec_driver_sql(
        "SELECT to_regclass(current_schema() || '.alembic_version')"
    ).scalar()
    if exists is None:
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _stream(command: list[str], env: dict[str, str], target: Path) -> FileEntry:
    """Run ``command`` and write its standard output to ``target`` in chunks, hashing them."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - no shell; our own arguments
            command, stdout=subprocess.PIPE, stderr=errors, env=env
        )
        assert process.stdout is not None
        try:
            with open(target, "xb") as out:
                writer = HashingWriter(out)
                while chunk := process.stdout.read(CHUNK):
                    writer.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            process.stdout.close()
        code = process.wait()
        if code != 0:
            raise BackupError(f"pg_dump failed (exit status {code}): {_last_line(errors)}")
    return FileEntry(target.name, writer.size, writer.sha256)


def _last_line(errors) -> str:
    errors.seek(0)
    lines = [line.strip() for line in errors.read().decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    # pg_dump: error: ... then pg_dump: detail: ...: the end says what went wrong.
    return " ".join(lines[-3:]) if lines else "no message"

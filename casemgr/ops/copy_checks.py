"""``db copy``'s refusals: what the source and the target must be before a row moves.

The source is this installation's SQLite file, opened read-only (SQLite's
``mode=ro``): nothing the copy does, or an interruption of it, can change it.
It is read in one transaction, so every table comes from one moment. The
target is a PostgreSQL database migrated to the source's schema revision,
with no rows in any table.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

ALEMBIC_TABLE = "alembic_version"


class CopyRefused(Exception):
    """The copy cannot start; the message says why and what to do."""


@dataclass
class Source:
    """The installation's SQLite database, read-only, inside one read transaction."""

    connection: sqlite3.Connection
    path: str
    revision: str

    @property
    def shown(self) -> str:
        return f"sqlite:///{self.path}"

    def close(self) -> None:
        self.connection.rollback()  # ends the read transaction; nothing was written
        self.connection.close()


def shown(url: URL | str) -> str:
    """The URL as it may be printed (and as an operator writes it): the password
    replaced by ``***``, without the driver name casemgr adds."""
    try:
        url = sa.make_url(url)
    except ArgumentError:
        return "(not a database URL)"
    if url.drivername == "postgresql+psycopg":
        url = url.set(drivername="postgresql")
    return url.render_as_string(hide_password=True)


def target_url(text: str) -> URL:
    """The ``--to`` URL, with the driver casemgr uses for PostgreSQL."""
    try:
        url = sa.make_url(text)
    except ArgumentError:
        raise CopyRefused(
            "--to is not a database URL: give postgresql://USER:PASSWORD@HOST:PORT/NAME"
        ) from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def refuse_the_same_database(source_uri: str, target: URL) -> None:
    source = sa.make_url(source_uri)
    if _place(source) == _place(target):
        raise CopyRefused(
            f"--to names the database being copied ({shown(target)}): give the URL of "
            "a new, empty PostgreSQL database"
        )


def _place(url: URL) -> tuple:
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        return ("sqlite", os.path.realpath(path) if path and path != ":memory:" else path)
    return (
        url.get_backend_name(),
        url.host or "localhost",
        url.port or 5432,
        url.database,
    )


def refuse_what_is_not_postgresql(target: URL) -> None:
    if target.get_backend_name() != "postgresql":
        raise CopyRefused(
            f"--to must name a PostgreSQL database, not {target.get_backend_name()} "
            f"({shown(target)}): db copy moves a SQLite installation to PostgreSQL. "
            "To copy a SQLite database as it is, use db backup."
        )


def open_source(uri: str, *, head: str) -> Source:
    """This installation's database, if it is SQLite at revision ``head``, read-only."""
    url = sa.make_url(uri)
    if url.get_backend_name() != "sqlite":
        raise CopyRefused(
            f"db copy moves a SQLite installation to PostgreSQL; this installation's "
            f"database is {url.get_backend_name()} ({shown(url)}). Between two PostgreSQL "
            "databases use pg_dump and pg_restore (docs/deployment.md, Backups)."
        )
    path = url.database or ""
    if not path or path == ":memory:" or path.startswith("file:"):
        raise CopyRefused(
            f"the source must be a SQLite file named by its path (sqlite:////path/to/file.db), "
            f"not {shown(url)}"
        )
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise CopyRefused(f"the source database {path} does not exist")
    connection = sqlite3.connect(
        Path(path).as_uri() + "?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    try:
        connection.execute("PRAGMA query_only = ON")
        connection.execute("BEGIN")  # one snapshot for every table and every count
        names = _sqlite_tables(connection)
        if ALEMBIC_TABLE not in names:
            raise CopyRefused(
                f"the source {path} has no {ALEMBIC_TABLE} table: it is not a casemgr "
                "database made by flask db upgrade"
            )
        revision = _revision(connection.execute(f"SELECT version_num FROM {ALEMBIC_TABLE}"))  # noqa: S608
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise CopyRefused(f"the source {path} cannot be read: {exc}") from None
    except CopyRefused:
        connection.close()
        raise
    if revision != head:
        connection.close()
        raise CopyRefused(
            f"the source database is at schema revision {revision or '(none)'}, and this "
            f"casemgr's migrations end at {head}. Back it up, run flask --app wsgi db upgrade "
            "on it, then copy; or copy with the casemgr release that made it."
        )
    return Source(connection, path, revision)


def _sqlite_tables(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {name for (name,) in rows}


def _revision(rows: Iterable) -> str:
    return ",".join(sorted(str(row[0]) for row in rows))


def check_source_tables(source: Source, tables: list[sa.Table]) -> None:
    """Every table of the source is a model's table (or alembic's), with the model's columns."""
    names = _sqlite_tables(source.connection)
    known = {table.name for table in tables}
    unknown = sorted(names - known - {ALEMBIC_TABLE})
    if unknown:
        raise CopyRefused(
            f"the source has tables that casemgr does not know, which db copy would leave "
            f"behind: {', '.join(unknown)}. Move or drop them first."
        )
    _same_columns(
        "the source",
        tables,
        lambda name: [row[1] for row in source.connection.execute(f'PRAGMA table_info("{name}")')],
        names,
    )


def _same_columns(where: str, tables: list[sa.Table], columns_of, present: set[str]) -> None:
    missing = sorted(table.name for table in tables if table.name not in present)
    if missing:
        raise CopyRefused(f"{where} lacks the tables {', '.join(missing)}")
    for table in tables:
        found = set(columns_of(table.name))
        expected = {column.name for column in table.columns}
        if found != expected:
            differences = sorted(found ^ expected)
            raise CopyRefused(
                f"{where}'s table {table.name} does not have the columns casemgr expects "
                f"(differing: {', '.join(differences)})"
            )


def connect_target(url: URL) -> tuple[Engine, Connection]:
    """An engine and a connection to the target; CopyRefused with the server's
    message (never the password) if it cannot connect."""
    engine = sa.create_engine(
        url,
        poolclass=NullPool,
        connect_args={"connect_timeout": 10, "application_name": "casemgr db copy"},
    )
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        engine.dispose()
        message = str(exc.orig or exc).strip()
        if url.password:
            message = message.replace(str(url.password), "***")
        hint = ""
        if "does not exist" in message:
            hint = f"\nCreate it (createdb {url.database}), then {_migrate(url)}."
        raise CopyRefused(f"cannot connect to {shown(url)}: {message}{hint}") from None
    return engine, connection


def check_target(connection: Connection, url: URL, tables: list[sa.Table], revision: str) -> None:
    """The target is migrated to ``revision`` and every table in it is empty."""
    inspector = sa.inspect(connection)
    names = set(inspector.get_table_names())
    if ALEMBIC_TABLE not in names:
        raise CopyRefused(
            f"the target {shown(url)} has no schema ({ALEMBIC_TABLE} is missing): "
            f"{_migrate(url)}, then copy."
        )
    found = _revision(
        connection.execute(sa.text(f"SELECT version_num FROM {ALEMBIC_TABLE}"))  # noqa: S608
    )
    if found != revision:
        raise CopyRefused(
            f"the target is at schema revision {found or '(none)'} and the source at "
            f"{revision}: they must be the same. Drop it, create it again and "
            f"{_migrate(url)}."
        )
    _same_columns(
        "the target",
        tables,
        lambda name: [column["name"] for column in inspector.get_columns(name)],
        names,
    )
    preparer = connection.dialect.identifier_preparer
    filled = []
    for table in tables:
        statement = f"SELECT count(*) FROM {preparer.quote(table.name)}"  # noqa: S608 - a model's table
        count = connection.scalar(sa.text(statement))
        if count:
            filled.append(f"{table.name} ({count:,} row{'' if count == 1 else 's'})")
    connection.rollback()
    if filled:
        raise CopyRefused(
            f"the target {shown(url)} is not empty: {', '.join(filled)}.\n"
            "db copy writes only into an empty database, so that nothing in it is mixed "
            "with the copy or overwritten. If an earlier copy into it was interrupted, or "
            "you mean to replace it: drop it, create it again, migrate it and copy again:\n"
            f"  dropdb {url.database} && createdb -O OWNER {url.database}   (as the postgres "
            "user)\n"
            f"  DATABASE_URL='{shown(url)}' flask --app wsgi db upgrade\n"
            f"  flask --app wsgi db copy --to '{shown(url)}'"
            + ("\n(with the password where *** stands)" if url.password else "")
        )


def _migrate(url: URL) -> str:
    password = " (the password where *** stands)" if url.password else ""
    return f"migrate it: DATABASE_URL='{shown(url)}' flask --app wsgi db upgrade{password}"

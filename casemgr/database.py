"""The declarative base, column types and engine settings shared by every model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import Select
from sqlalchemy.types import TypeDecorator

from casemgr.clock import as_utc
from casemgr.errors import NotFound

# Named constraints, so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Primary keys are INTEGER columns (32-bit on PostgreSQL): a larger id names
# nothing, and must not reach the database, which refuses it with an error.
MAX_ID = 2**31 - 1


def is_valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID


ModelT = TypeVar("ModelT")


def get_or_raise(session: Session, model: type[ModelT], ident: Any, *, what: str) -> ModelT:
    """The ``model`` row with primary key ``ident``; raises NotFound("no {what} with id ...").

    Any id the database could not hold (zero, negative, past INTEGER, not a
    whole number) names nothing: NotFound, never a database error.
    """
    found = None
    if isinstance(ident, int) and not isinstance(ident, bool) and is_valid_id(ident):
        found = session.get(model, ident)
    if found is None:
        raise NotFound(f"no {what} with id {ident}")
    return found


def dialect_insert(
    session_or_connection: Session | scoped_session | Connection,
) -> Callable[..., Any]:
    """The ``insert`` of the backend in use (PostgreSQL's or SQLite's), which has
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    bind = (
        session_or_connection
        if isinstance(session_or_connection, Connection)
        else session_or_connection.get_bind()
    )
    if bind.dialect.name == "postgresql":
        return postgresql.insert
    if bind.dialect.name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"casemgr supports PostgreSQL and SQLite, not {bind.dialect.name}")


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are
    stored as naive UTC and made aware again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Foreign keys on, WAL with NORMAL sync, and a busy timeout, for SQLite."""
    module = type(dbapi_connection).__module__
    if not module.startswith(("sqlite3", "pysqlite")):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """``session.begin_nested()`` that holds on SQLite too: an error inside (an
    IntegrityError, say) undoes only what was done inside, and the session's
    transaction goes on, to be committed or rolled back as a whole.

    pysqlite opens a transaction only before an INSERT, UPDATE or DELETE. A
    SAVEPOINT taken before any of those would be the outermost transaction,
    and releasing it would COMMIT there and then. So on SQLite a transaction
    is opened first, with ``BEGIN IMMEDIATE`` (it takes the write lock, waiting
    up to busy_timeout, as the write inside would have).
    """
    connection = session.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.name == "sqlite" and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    with session.begin_nested():
        yield


class _ExplainRows(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <select>`` on PostgreSQL, binding parameters as the select would."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]):
        self.statement = statement


@compiles(_ExplainRows, "postgresql")
def _compile_explain_rows(element: _ExplainRows, compiler, **kw) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def estimated_rows(session: Session, statement: Select[Any]) -> int | None:
    """The planner's estimate of how many rows ``statement`` returns, without running it.

    PostgreSQL only (it keeps statistics of every table; the estimate of a
    whole table or one value of a column is close, that of several filters
    together less so). None on SQLite, which has no such estimate to offer.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    plan = session.execute(_ExplainRows(statement)).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])

"""``db copy``'s rows: every table, parents before children, streamed from
SQLite into PostgreSQL with COPY, one transaction per batch of rows.

Values are read with the models' column types, so SQLite's text datetimes
become aware UTC datetimes, its 0/1 booleans booleans and its blobs bytes
(the stored letters' and reports' PDFs among them). JSON columns move as
the text SQLite holds, unparsed, so a document (and an SQL NULL) arrives
exactly as it was. Ids are copied as they are; the sequences are set past
the largest id afterwards.

A foreign key that cannot be satisfied in table order (a cycle of tables,
or a row that names a later row of its own table, such as a case marked a
duplicate of a newer one) is written empty at first and set once every row
is in (:class:`Link`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Connection
from sqlalchemy.schema import sort_tables_and_constraints

from casemgr.ops.copy_checks import CopyRefused

# audit_log refuses UPDATE on PostgreSQL (migration 0003): its rows must go in whole.
APPEND_ONLY = {"audit_log"}
_SQLITE = SQLiteDialect_pysqlite()


@dataclass(frozen=True)
class Link:
    """Foreign-key columns written empty by the first pass and set afterwards.

    ``forward_only``: a single-column reference to its own table's integer
    id; only values above the row's own id (rows not yet copied) wait."""

    columns: tuple[str, ...]
    forward_only: bool


@dataclass
class TablePlan:
    table: sa.Table
    links: list[Link] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def key(self) -> list[str]:
        return [column.name for column in self.table.primary_key.columns]


def plan(tables: list[sa.Table]) -> list[TablePlan]:
    """The tables in foreign-key order, each with the links to set after the rows.

    In a cycle of tables, every nullable key between them waits; a cycle
    through NOT NULL keys alone cannot be copied in any order and is refused,
    as is a link on an append-only table (it could not be set later)."""
    cyclic = _cyclic(tables)
    try:
        ordered = sort_tables_and_constraints(
            tables,
            filter_fn=lambda fk: fk in cyclic and all(column.nullable for column in fk.columns),
        )
    except sa.exc.CircularDependencyError as exc:
        names = ", ".join(sorted(table.name for table in exc.cycles))
        raise CopyRefused(
            f"the tables {names} refer to each other through a cycle of foreign keys "
            "and NOT NULL columns: db copy cannot write their rows in any order"
        ) from None
    plans = {table.name: TablePlan(table) for table, _ in ordered if table is not None}
    for table_plan in plans.values():
        table = table_plan.table
        for fk in table.foreign_key_constraints:
            if fk.referred_table is table:
                table_plan.links.append(Link(tuple(fk.column_keys), _forward_only(fk)))
    for table, fks in ordered:
        if table is None:
            for fk in fks:
                plans[fk.table.name].links.append(Link(tuple(fk.column_keys), False))
    for table_plan in plans.values():
        for link in table_plan.links:
            _refuse_unsettable(table_plan.table, link)
    return [plans[table.name] for table, _ in ordered if table is not None]


def _cyclic(tables: list[sa.Table]) -> set[sa.ForeignKeyConstraint]:
    """The foreign keys between two tables of one cycle (strongly connected
    component of the graph of references; a table's references to itself aside)."""
    refers = {
        table: {fk.referred_table for fk in table.foreign_key_constraints} for table in tables
    }
    index: dict[sa.Table, int] = {}
    low: dict[sa.Table, int] = {}
    stack: list[sa.Table] = []
    component: dict[sa.Table, int] = {}

    def visit(table: sa.Table) -> None:
        index[table] = low[table] = len(index)
        stack.append(table)
        for other in refers[table]:
            if other not in refers:
                continue
            if other not in index:
                visit(other)
                low[table] = min(low[table], low[other])
            elif other not in component:
                low[table] = min(low[table], index[other])
        if low[table] == index[table]:
            while True:
                top = stack.pop()
                component[top] = index[table]
                if top is table:
                    break

    for table in tables:
        if table not in index:
            visit(table)
    return {
        fk
        for table in tables
        for fk in table.foreign_key_constraints
        if fk.referred_table is not table and component.get(fk.referred_table) == component[table]
    }


def _forward_only(fk: sa.ForeignKeyConstraint) -> bool:
    key = list(fk.table.primary_key.columns)
    return (
        len(fk.columns) == 1
        and len(key) == 1
        and list(fk.elements)[0].column is key[0]
        and isinstance(key[0].type, sa.Integer)
    )


def _refuse_unsettable(table: sa.Table, link: Link) -> None:
    if table.name in APPEND_ONLY:
        raise CopyRefused(
            f"{table.name}.{', '.join(link.columns)} would have to be set after its rows are "
            f"in, and {table.name} is append-only"
        )
    for name in link.columns:
        if not table.c[name].nullable:
            raise CopyRefused(
                f"{table.name}.{name} refers to its own table and is NOT NULL: db copy "
                "cannot leave it empty until the row it names is in"
            )


class Progress:
    """Rows done per table on ``stream``, at most one line every ``interval`` seconds.

    A table copied within the interval shows no line (the closing table of
    counts names it); a longer one shows its progress and its end."""

    def __init__(
        self,
        stream: IO[str],
        *,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream, self.interval, self.clock = stream, interval, clock
        self.last = clock()
        self.start("", 0)

    def start(self, table: str, total: int, what: str = "rows") -> None:
        self.table, self.total, self.what, self.shown = table, total, what, None

    def update(self, done: int) -> None:
        if self.clock() - self.last >= self.interval:
            self._line(done)

    def finish(self, done: int) -> None:
        if self.shown is not None and self.shown != done:
            self._line(done)

    def _line(self, done: int) -> None:
        share = f" ({100 * done // self.total} %)" if self.total else ""
        self.stream.write(f"{self.table}: {done:,} / {self.total:,} {self.what}{share}\n")
        self.stream.flush()
        self.last, self.shown = self.clock(), done


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _select(table: sa.Table, columns: list[str], where: str = "") -> str:
    quote = _SQLITE.identifier_preparer.quote
    key = ", ".join(quote(column.name) for column in table.primary_key.columns)
    listed = ", ".join(quote(name) for name in columns)
    # Names of the models' tables and columns, quoted: never input.
    return f"SELECT {listed} FROM {quote(table.name)}{where} ORDER BY {key}"  # noqa: S608


def _converter(table_plan: TablePlan) -> Callable[[tuple], list]:
    """From a SQLite row to the values COPY takes, by the models' column types."""
    table = table_plan.table
    steps = []
    for index, column in enumerate(table.columns):
        if isinstance(column.type, sa.JSON):
            continue  # the stored text, as it is
        process = column.type.dialect_impl(_SQLITE).result_processor(_SQLITE, None)
        if process is not None:
            steps.append((index, process))
    names = [column.name for column in table.columns]
    emptied: list[tuple[int, int | None]] = []  # (column, the id it must not exceed)
    for link in table_plan.links:
        own = names.index(table_plan.key[0]) if link.forward_only else None
        emptied += [(names.index(name), own) for name in link.columns]

    def convert(row: tuple) -> list:
        values = list(row)
        for index, process in steps:
            values[index] = process(values[index])
        for index, own in emptied:
            if values[index] is not None and (own is None or values[index] > values[own]):
                values[index] = None
        return values

    return convert


def count(source: sqlite3.Connection, table: str) -> int:
    quote = _SQLITE.identifier_preparer.quote
    return source.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]  # noqa: S608


def copy_table(
    source: sqlite3.Connection,
    target: Connection,
    table_plan: TablePlan,
    *,
    batch_size: int,
    progress: Progress,
) -> int:
    """Stream one table into the target, committing every ``batch_size`` rows."""
    table = table_plan.table
    names = [column.name for column in table.columns]
    total = count(source, table.name)
    progress.start(table.name, total)
    convert = _converter(table_plan)
    rows: Iterator[tuple] = iter(source.execute(_select(table, names)))
    statement = (
        f"COPY {_quote(target, table.name)} "
        f"({', '.join(_quote(target, name) for name in names)}) FROM STDIN"
    )
    done = 0
    while True:
        batch = islice(rows, batch_size)
        first = next(batch, None)
        if first is None:
            break
        with target.begin():
            cursor = target.connection.driver_connection.cursor()
            with cursor.copy(statement) as copy:
                copy.write_row(convert(first))
                done += 1
                for row in batch:
                    copy.write_row(convert(row))
                    done += 1
            cursor.close()
        progress.update(done)
    progress.finish(done)
    return done


def set_links(
    source: sqlite3.Connection,
    target: Connection,
    table_plan: TablePlan,
    *,
    batch_size: int,
    progress: Progress,
) -> int:
    """The second pass: the links the first left empty, one UPDATE per row that has one."""
    table, updated = table_plan.table, 0
    key = table_plan.key
    for link in table_plan.links:
        quote = _SQLITE.identifier_preparer.quote
        filled = " OR ".join(f"{quote(name)} IS NOT NULL" for name in link.columns)
        where = f" WHERE ({filled})"
        if link.forward_only:
            where += f" AND {quote(link.columns[0])} > {quote(key[0])}"
        total = source.execute(
            f"SELECT count(*) FROM {quote(table.name)}{where}"  # noqa: S608 - model names
        ).fetchone()[0]
        progress.start(f"{table.name}.{', '.join(link.columns)}", total, "links")
        rows = iter(source.execute(_select(table, [*link.columns, *key], where)))
        assignments = ", ".join(f"{_quote(target, name)} = %s" for name in link.columns)
        matches = " AND ".join(f"{_quote(target, name)} = %s" for name in key)
        statement = f"UPDATE {_quote(target, table.name)} SET {assignments} WHERE {matches}"  # noqa: S608
        done = 0
        while batch := list(islice(rows, batch_size)):
            with target.begin():
                cursor = target.connection.driver_connection.cursor()
                cursor.executemany(statement, batch)
                cursor.close()
            done += len(batch)
            progress.update(done)
        progress.finish(done)
        updated += done
    return updated


def set_sequences(target: Connection, tables: list[sa.Table]) -> list[tuple[str, int]]:
    """Each id sequence set past its table's largest id; (sequence, next id) of each."""
    done = []
    with target.begin():
        for table in tables:
            for column in table.primary_key.columns:
                sequence = target.scalar(
                    sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                    {"table": _quote(target, table.name), "column": column.name},
                )
                if sequence is None:
                    continue
                largest = target.scalar(
                    sa.select(sa.func.max(sa.column(column.name))).select_from(sa.table(table.name))
                )
                target.execute(
                    sa.text("SELECT setval(:sequence, :value, :called)"),
                    {"sequence": sequence, "value": largest or 1, "called": largest is not None},
                )
                done.append((sequence, (largest or 0) + 1))
    return done


def unset_sequences(target: Connection, handled: list[tuple[str, int]]) -> list[str]:
    """Sequences of the target's schema that no table's id owns (none in casemgr's
    schema; named so that an added one is not left behind unnoticed)."""
    names = {name.split(".")[-1].strip('"') for name, _ in handled}
    found = target.scalars(
        sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
    ).all()
    target.rollback()
    return sorted(name for name in found if name not in names)


def analyze(target: Connection) -> None:
    """Planner statistics for the new tables (autovacuum would get there later)."""
    with target.begin():
        target.execute(sa.text("ANALYZE"))

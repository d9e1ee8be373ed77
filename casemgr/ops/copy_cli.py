"""``flask db copy --to postgresql://...``: move a SQLite installation to PostgreSQL.

A command of Flask-Migrate's ``db`` group. It refuses before writing
anything unless the target is an empty PostgreSQL database at the source's
schema revision (:mod:`casemgr.ops.copy_checks`), copies every table
(:mod:`casemgr.ops.copy_rows`), and ends by counting the rows on both sides
and walking the audit chain on the target (:mod:`casemgr.ops.copy_verify`).
"""

from __future__ import annotations

import sqlite3
import sys
import time

import click
import psycopg
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

from casemgr.audit import chain, checkpoints
from casemgr.extensions import db
from casemgr.ops import copy_checks, copy_rows, copy_verify
from casemgr.ops.copy_checks import CopyRefused, shown


class CopyFailed(CopyRefused):
    """The copy started and stopped: the target holds part of the data."""


@click.command("copy")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="URL",
    help="The PostgreSQL database to copy into (postgresql://USER:PASSWORD@HOST:PORT/NAME): "
    "empty, and migrated to this installation's revision (flask db upgrade).",
)
@click.option(
    "--batch-size",
    default=10_000,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="Rows per transaction.",
)
@with_appcontext
def copy_command(to: str, batch_size: int):
    """Copy this installation's SQLite database into PostgreSQL, then verify the copy.

    Stop the app and the scheduler first. The source is only read. Progress
    goes to stderr; the row counts of both sides and the audit chain's check
    to stdout. Exit 1 if it refuses, fails, or the copy differs.
    """
    tables = list(db.metadata.tables.values())
    try:
        url = copy_checks.target_url(to)
        copy_checks.refuse_the_same_database(current_app.config["SQLALCHEMY_DATABASE_URI"], url)
        copy_checks.refuse_what_is_not_postgresql(url)
        head = ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()
        source = copy_checks.open_source(
            current_app.config["SQLALCHEMY_DATABASE_URI"], head=head or ""
        )
    except CopyRefused as exc:
        _refuse(exc)
    try:
        copy_checks.check_source_tables(source, tables)
        plans = copy_rows.plan(tables)
        engine, target = copy_checks.connect_target(url)
    except CopyRefused as exc:
        source.close()
        _refuse(exc)
    try:
        copy_checks.check_target(target, url, tables, source.revision)
        click.echo(f"Copying {source.shown} to {shown(url)} (schema revision {source.revision})")
        _copy(source, target, plans, batch_size, url)
        ok = _verify(source, target, [plan.name for plan in plans])
    except CopyRefused as exc:
        _refuse(exc)
    except DBAPIError as exc:
        _refuse(f"the target {shown(url)} answered with an error: {_message(exc, url)}")
    finally:
        target.close()
        engine.dispose()
        source.close()
    if not ok:
        raise SystemExit(1)


def _refuse(exc: Exception | str):
    click.echo(f"db copy {'failed' if isinstance(exc, CopyFailed) else 'refused'}: {exc}", err=True)
    raise SystemExit(1)


def _copy(source, target, plans, batch_size: int, url) -> None:
    progress = copy_rows.Progress(sys.stderr)
    started = time.monotonic()
    current, rows = "", 0
    try:
        for plan in plans:
            current = plan.name
            rows += copy_rows.copy_table(
                source.connection, target, plan, batch_size=batch_size, progress=progress
            )
        for plan in plans:
            current = plan.name
            copy_rows.set_links(
                source.connection, target, plan, batch_size=batch_size, progress=progress
            )
        current = "(sequences)"
        sequences = copy_rows.set_sequences(target, [plan.table for plan in plans])
        current = "(ANALYZE)"
        copy_rows.analyze(target)
    except (DBAPIError, psycopg.Error, sqlite3.Error, ValueError) as exc:
        raise CopyFailed(
            f"the copy stopped in {current}: {_message(exc, url)}\nThe target now holds "
            f"part of the data. Drop it, create it again, migrate it (DATABASE_URL="
            f"'{shown(url)}' flask --app wsgi db upgrade) and copy again. The source was "
            "only read."
        ) from None
    except KeyboardInterrupt:
        raise CopyFailed(
            f"interrupted in {current}. The target now holds part of the data: drop and "
            "recreate it, migrate it and copy again. The source was only read."
        ) from None
    click.echo(
        f"Copied {rows:,} rows of {len(plans)} tables in {time.monotonic() - started:.1f} s; "
        f"{len(sequences)} id sequences set past the largest id."
    )
    stray = copy_rows.unset_sequences(target, sequences)
    if stray:
        click.echo(f"Sequences no table's id owns, left as they were: {', '.join(stray)}")


def _message(exc: Exception, url) -> str:
    """The database's own words, without the password of ``url``."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.replace(str(url.password), "***") if url.password else message


def _verify(source, target, names: list[str]) -> bool:
    found = copy_verify.counts(source.connection, target, names)
    for line in copy_verify.count_lines(found):
        click.echo(line)
    audit = copy_verify.audit_chain(
        source.connection,
        target,
        chain.current_keys(),
        checkpoints.installation_id(current_app.config),
    )
    click.echo(audit.line)
    differing = [item.name for item in found if not item.same]
    if differing:
        click.echo(f"db copy: the row counts differ in {', '.join(differing)}", err=True)
    if not audit.ok:
        click.echo("db copy: the audit chain on the target does not hold", err=True)
    if differing or not audit.ok:
        return False
    total = sum(item.target for item in found)
    click.echo(
        f"Verified: {len(found)} tables, {total:,} rows, the same on both sides. Point "
        "DATABASE_URL at the target and start casemgr (docs/deployment.md)."
    )
    return True

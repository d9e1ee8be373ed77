"""``flask --app wsgi db backup PATH`` and ``db restore PATH``, beside Flask-Migrate's
``db upgrade`` in the same group."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import Engine

from casemgr import context
from casemgr.extensions import db
from casemgr.jobs.cli import IsoDateTime
from casemgr.ops.backup import HOLDS, make_backup, record_backup, restore_backup, size_text
from casemgr.ops.backup_manifest import MANIFEST, BackupError


def add_backup_commands(app: Flask) -> None:
    """Put backup and restore into the ``db`` group that Flask-Migrate registered."""
    group = app.cli.commands["db"]
    group.add_command(backup_command)  # type: ignore[attr-defined]
    group.add_command(restore_command)  # type: ignore[attr-defined]


def database_name(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return f"the SQLite database {engine.url.database}"
    url = engine.url.set(drivername="postgresql")
    return f"the PostgreSQL database {url.render_as_string(hide_password=True)}"


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--now",
    type=IsoDateTime(),
    default=None,
    help="The backup's time in its manifest (ISO 8601); default: now.",
)
@with_appcontext
def backup_command(path: Path, now: datetime | None) -> None:
    """Write a consistent backup of the database, while the app runs, into the new
    directory PATH: the dump and manifest.json (each file's size and SHA-256).

    It holds everything in the database, the stored letters and reports too, but
    not CONTACT_ENCRYPTION_KEY nor AUDIT_KEY. SQLite: its online backup API;
    PostgreSQL: pg_dump --format=custom (PostgreSQL's client tools needed).
    """
    moment = now or context.now()
    engine = db.engine
    click.echo(f"Backing up {database_name(engine)} into {path} ...")
    try:
        manifest = make_backup(
            engine,
            path,
            now=moment,
            made_by="command",
            pg_bin=str(current_app.config.get("BACKUP_PG_BIN") or ""),
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    record_backup(db.session, path, manifest, moment)
    db.session.commit()
    dump = manifest.dump
    rows = sum(manifest.tables.values())
    click.echo(
        f"Wrote {path}: {dump.name} ({size_text(dump.size)}, sha256 {dump.sha256}) and {MANIFEST}."
    )
    click.echo(
        f"Schema revision {manifest.schema_revision}, casemgr {manifest.casemgr_version}, "
        f"{len(manifest.tables)} tables, {rows:,} rows ({manifest.tables.get('cases', 0):,} "
        f"cases, {manifest.tables.get('notices', 0):,} stored letters)."
    )
    click.echo(HOLDS)


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Restore the backup in the directory PATH into the configured database, which
    must be empty. The manifest is checked first (engine, schema revision, each
    file's size and SHA-256): a backup that fails a check is refused, nothing changed.
    """
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    known = {revision.revision for revision in script.walk_revisions()}
    head = script.get_current_head() or ""
    engine = db.engine
    click.echo(f"Restoring {path} into {database_name(engine)}: checking the backup first ...")
    try:
        restored = restore_backup(
            engine,
            path,
            known_revisions=known,
            head=head,
            pg_bin=str(current_app.config.get("BACKUP_PG_BIN") or ""),
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    manifest = restored.manifest
    click.echo(
        f"Restored the backup made {manifest.created_at.isoformat()} by casemgr "
        f"{manifest.casemgr_version} (schema revision {manifest.schema_revision}): "
        f"{len(restored.tables)} tables, {sum(restored.tables.values()):,} rows, every table "
        "as counted in the manifest."
    )
    if manifest.schema_revision != head:
        click.echo(
            f"The schema is at revision {manifest.schema_revision}, this code's newest is "
            f"{head}: run flask --app wsgi db upgrade before starting the app."
        )
    if manifest.audit_checkpoint:
        click.echo(f"The newest audit checkpoint in the backup: {manifest.audit_checkpoint}")
    click.echo(
        "Next: flask --app wsgi audit verify (with --checkpoint FILE for the checkpoints "
        "e-mailed since the backup), under the AUDIT_KEY of the installation that made it; "
        "reporters' contact details need its CONTACT_ENCRYPTION_KEY. Neither key is in "
        "the backup."
    )

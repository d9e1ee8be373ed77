"""``flask directory import FILE.csv [--dry-run]`` and ``flask directory export FILE.csv``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from casemgr import context
from casemgr.directory.csvio import ImportFailed, export_csv, import_csv
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db


@click.group("directory", help="Import and export the directory of organisations (CSV).")
def directory_cli():
    pass


@directory_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and report; save nothing.")
@with_appcontext
def import_command(path: str, dry_run: bool):
    """Import FILE (layout: docs/directory-csv.md). All rows or none are saved."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        result = import_csv(
            db.session, data, now=context.now(), actor=SYSTEM_ACTOR, source="cli", dry_run=dry_run
        )
    except ImportFailed as exc:
        db.session.rollback()
        click.echo(f"{path}: not imported, nothing saved.", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from None
    if dry_run:
        db.session.rollback()
        click.echo(f"Check only, nothing saved. {result.summary()}")
        return
    db.session.commit()
    click.echo(f"Imported. {result.summary()}")


@directory_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@with_appcontext
def export_command(path: str):
    """Write every organisation to FILE ("-" for standard output)."""
    text = export_csv(db.session, now=context.now(), actor=SYSTEM_ACTOR, source="cli")
    if path == "-":
        click.echo(text, nl=False)
    else:
        with open(path, "wb") as handle:
            handle.write(text.encode("utf-8-sig"))
    db.session.commit()
    if path != "-":
        click.echo(f"Exported the directory to {path}.")

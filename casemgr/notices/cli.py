"""``flask --app wsgi notices export``: a period's letters as one PDF or a zip."""

from __future__ import annotations

import os
import tempfile

import click
from flask.cli import with_appcontext

from casemgr import context
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.notices.export import ExportRequest, NothingToExport, export_letters
from casemgr.notices.models import KINDS


@click.group("notices")
def notices_cli() -> None:
    """Letters: notices, referrals, reminders, escalations."""


@notices_cli.command("export")
@click.option(
    "--from",
    "first",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="First day (in HOTLINE_TIMEZONE), e.g. 2026-11-01.",
)
@click.option(
    "--to",
    "last",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Last day (in HOTLINE_TIMEZONE), included.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="The file to write (.pdf, or .zip with --zip).",
)
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only letters of this kind.")
@click.option(
    "--recipient",
    type=click.IntRange(min=1),
    default=None,
    help="Only letters to this organisation (id).",
)
@click.option(
    "--zip",
    "as_zip",
    is_flag=True,
    help="A zip of the separate PDFs with SHA256SUMS and index.csv.",
)
@with_appcontext
def export_command(first, last, output, kind, recipient, as_zip) -> None:
    """Export the letters made from --from to --to (both days included).

    Exit 1, writing nothing, when the period holds no letter.
    """
    try:
        request = ExportRequest(
            first=first.date(),
            last=last.date(),
            kind=kind,
            recipient_id=recipient,
            format="zip" if as_zip else "pdf",
            timezone=context.timezone(),
        )
    except ValidationFailed as exc:
        raise click.BadParameter(str(exc)) from None
    target = os.path.abspath(output)
    try:
        handle, partial = tempfile.mkstemp(
            prefix=".export-", suffix=".part", dir=os.path.dirname(target)
        )
    except OSError as exc:
        raise click.BadParameter(f"cannot write there: {exc}", param_hint="--output") from None
    try:
        with os.fdopen(handle, "wb") as out:
            result = export_letters(
                db.session,
                request,
                out,
                now=context.now(),
                actor=SYSTEM_ACTOR,
                max_merged=context.setting("NOTICE_EXPORT_MAX_LETTERS"),
                via="cli",
            )
        os.replace(partial, target)
        db.session.commit()
    except (NothingToExport, ValidationFailed) as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        raise click.exceptions.Exit(1) from None
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    click.echo(f"{result.count} letters written to {target} (SHA-256 {result.sha256})")

"""``flask --app wsgi mail ingest [--now ISO]``: one message on standard input.

For a mail server's pipe delivery (an alias ``"|flask --app wsgi mail ingest"``
or a Postfix ``pipe`` transport). Exit status: 0 when the message is stored
(or was stored before); 65 (EX_DATAERR) for input that is no message, which
the server returns to the sender; 75 (EX_TEMPFAIL) when it could not be stored
now (the database is down), which the server retries later.
"""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from casemgr import context
from casemgr.extensions import db
from casemgr.inbound.parsing import Unreadable
from casemgr.inbound.services import InboundSettings, ingest
from casemgr.jobs.cli import IsoDateTime

EX_DATAERR = 65
EX_TEMPFAIL = 75


@click.group("mail")
def mail_cli() -> None:
    """Mail that comes in: provider replies, auto-replies, bounces."""


@mail_cli.command("ingest")
@click.option(
    "--now",
    type=IsoDateTime(),
    default=None,
    help="Record it as received at this moment (ISO 8601, UTC when no offset).",
)
@with_appcontext
def ingest_command(now: datetime | None) -> None:
    """Store the message on standard input and thread it into its cases."""
    raw = sys.stdin.buffer.read()
    settings = InboundSettings.from_config(current_app.config)
    try:
        result = ingest(db.session, raw, now=now or context.now(), settings=settings)
        db.session.commit()
    except Unreadable as exc:
        db.session.rollback()
        click.echo(f"mail ingest: not stored: {exc}", err=True)
        raise click.exceptions.Exit(EX_DATAERR) from None
    except SQLAlchemyError as exc:
        db.session.rollback()
        click.echo(
            f"mail ingest: could not store it now ({type(exc).__name__}); try again later",
            err=True,
        )
        raise click.exceptions.Exit(EX_TEMPFAIL) from None
    click.echo(result.line())

"""``flask --app wsgi jobs run NAME [--now ISO]``: run one job once.

The registry maps a job's name to ``module:function``; adding a job is one
line here. Every job is ``run(session, now, settings) -> summary`` and only
flushes: this wrapper commits once, or rolls back if the job fails.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from casemgr import context
from casemgr.clock import parse_iso
from casemgr.extensions import db

JOBS: dict[str, str] = {
    "retention": "casemgr.jobs.retention:run",
}

Job = Callable[[Session, datetime, Mapping[str, Any]], Mapping[str, Any]]


def load_job(name: str) -> Job:
    module, _, function = JOBS[name].partition(":")
    return getattr(importlib.import_module(module), function)


class IsoDateTime(click.ParamType):
    """An ISO 8601 date or date-time, read as UTC when it has no offset."""

    name = "ISO-DATETIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            return parse_iso(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.group("jobs")
def jobs_cli() -> None:
    """Run scheduled jobs by hand."""


@jobs_cli.command("list")
def list_command() -> None:
    """Print the names of the jobs."""
    for name in sorted(JOBS):
        click.echo(name)


@jobs_cli.command("run")
@click.argument("name", type=click.Choice(sorted(JOBS)))
@click.option(
    "--now",
    type=IsoDateTime(),
    default=None,
    help="Run as of this moment (ISO 8601, UTC when no offset), e.g. 2026-12-01T06:00.",
)
@with_appcontext
def run_command(name: str, now: datetime | None) -> None:
    """Run the job NAME once and print its summary."""
    job = load_job(name)
    moment = now or context.now()
    try:
        summary = job(db.session, moment, current_app.config)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    current_app.logger.info("job %s as of %s: %s", name, moment.isoformat(), summary)
    click.echo(f"{name} as of {moment.isoformat()}: {json.dumps(summary, default=str)}")

"""``flask --app wsgi jobs run NAME [--now ISO]``: run one job once and print what it did.

Every job is ``run(session, now, app) -> JobSummary`` (see :mod:`casemgr.jobs.base`);
adding one is a line in :data:`JOBS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from casemgr import context
from casemgr.clock import parse_iso
from casemgr.extensions import db
from casemgr.jobs import (
    audit_checkpoint,
    mail,
    monthly_report,
    notices,
    notifications,
    outbox,
    partners,
    reminders,
    retention,
    url_checks,
)
from casemgr.jobs.base import JobSummary
from casemgr.jobs.runs import run_recorded


def _retention(session: Session, now: datetime, app: Flask) -> Mapping[str, object]:
    return retention.run(session, now, app.config)


JOBS: dict[str, Callable[[Session, datetime, Flask], JobSummary | Mapping[str, object]]] = {
    "notices": notices.run,
    "reminders": reminders.run,
    "retention": _retention,
    "outbox": outbox.run,
    "notifications": notifications.run,
    "monthly_report": monthly_report.run,
    "url_checks": url_checks.run,
    "mail": mail.run,
    "partners": partners.run,
    "audit_checkpoint": audit_checkpoint.run,
}

# Jobs that run only when a setting turns them on (a flag, or an address or
# path that must be set): the scheduler leaves them out while it is off, the
# job itself does nothing and says so, and the job table (/healthz, the
# System page) shows them as off, never late.
ENABLED_BY: dict[str, str] = {"url_checks": "URL_CHECKS_ENABLED", "mail": "IMAP_URL"}


def off_reason(name: str, config: Mapping[str, object]) -> str | None:
    """Why job ``name`` is switched off by configuration; None when it is on."""
    setting = ENABLED_BY.get(name)
    if setting is None or config.get(setting, False):
        return None
    return f"{setting} is not set"


def enabled(name: str, config: Mapping[str, object]) -> bool:
    """Whether job ``name`` is on (every job is, but those of :data:`ENABLED_BY`)."""
    return off_reason(name, config) is None


def run_and_commit(name: str, now: datetime, app: Flask) -> JobSummary | Mapping[str, object]:
    """One run of job ``name`` as of ``now`` on ``db.session``: commit, or roll
    back and raise. Every run goes through here, inside
    :func:`casemgr.jobs.runs.run_recorded`."""
    try:
        summary = JOBS[name](db.session, now, app)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return summary


class IsoDateTime(click.ParamType):
    """An ISO 8601 date or date-time, UTC when it has no offset."""

    name = "ISO-DATETIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            return parse_iso(value)
        except ValueError as exc:
            self.fail(f"{exc}; expected e.g. 2026-12-01T06:00Z", param, ctx)


def describe(name: str, now: datetime, summary: object) -> str:
    """A job's one-line summary, whatever the job returned."""
    line = getattr(summary, "line", None)
    if callable(line):
        return line()
    return f"{name} as of {now.isoformat()}: {json.dumps(summary, default=str)}"


@click.group("jobs")
def jobs_cli() -> None:
    """Run scheduled jobs by hand, and see how their runs went."""


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
    help="Run as of this moment (ISO 8601, UTC when no offset), e.g. 2026-12-01T06:00Z.",
)
@with_appcontext
def run_command(name: str, now: datetime | None) -> None:
    """Run the job NAME once and print what it did; exit 1 if part of it failed."""
    moment = now or context.now()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    summary = run_recorded(
        app, name, lambda: run_and_commit(name, moment, app), as_of=moment, trigger="cli"
    )
    click.echo(describe(name, moment, summary))
    for kind, references in sorted(getattr(summary, "letters", {}).items()):
        click.echo(f"  {kind}: {', '.join(references)}")
    for failure in getattr(summary, "failures", []):
        click.echo(f"  failed: {failure}", err=True)
    if getattr(summary, "failed", 0):
        raise click.exceptions.Exit(1)

"""``flask --app wsgi jobs status [--now ISO]``: the job table, for a shell or a monitor."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from casemgr import context
from casemgr.extensions import db
from casemgr.jobs.cli import IsoDateTime
from casemgr.jobs.health import JobState, RunInfo, job_table, scheduler_never_ran

COLUMNS = ("job", "interval", "last run", "last success", "outcome", "state", "summary")


@click.command("status")
@click.option(
    "--now",
    type=IsoDateTime(),
    default=None,
    help="Judge lateness as of this moment (ISO 8601, UTC when no offset).",
)
@with_appcontext
def status_command(now: datetime | None) -> None:
    """Print each job's last run, last success, outcome and state (times in UTC).

    A job is late when none of its runs succeeded within two of its intervals.
    Exit status: 0 when every job that is on is fine, 1 when one is late,
    failed its last run or never ran (the lines after the table name them).
    """
    moment = now or context.now()
    table = job_table(db.session, current_app.config, moment)
    rows = [COLUMNS, *(_row(state) for state in table)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())
    problems = [state for state in table if state.needs_attention]
    if scheduler_never_ran(table):
        click.echo("\nThe scheduler has never run (flask --app wsgi scheduler).")
    for state in problems:
        click.echo(f"{state.job}: {_problem(state)}")
    if problems:
        raise click.exceptions.Exit(1)


def _row(state: JobState) -> tuple[str, ...]:
    last = state.last_run
    return (
        state.job,
        _interval(state.interval),
        _when(last),
        _when(state.last_success),
        last.outcome if last else "-",
        state.state if state.on else f"off ({state.off})",
        (last.error or last.summary) if last else "",
    )


def _problem(state: JobState) -> str:
    if state.never_ran:
        return "never ran"
    parts = []
    if state.failed and state.last_run is not None:
        parts.append(f"its last run failed: {state.last_run.error}")
    if state.late:
        success = state.last_success
        since = f"since {success.finished_at.isoformat()}" if success else "ever"
        parts.append(f"late: no success {since} (every {_interval(state.interval)})")
    return "; ".join(parts)


def _when(run: RunInfo | None) -> str:
    return run.finished_at.strftime("%Y-%m-%dT%H:%MZ") if run else "never"


def _interval(interval: timedelta | None) -> str:
    if interval is None:
        return "-"
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"

"""Recording each run of a job: the one wrapper the scheduler and ``jobs run`` share.

:func:`run_recorded` times a job's work and writes a :class:`JobRun` for it
in a session of its own, after the work committed or rolled back: a job that
crashes mid-run, whose own transaction is rolled back, is still recorded as
failed, with the exception's type and the first line of its message. Writing
a run also prunes that job's runs older than ``JOB_RUN_RETENTION_DAYS`` (one
index range, nearly always empty), keeping its last success whatever its age.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from casemgr.extensions import db
from casemgr.jobs.models import (
    FAILED,
    MAX_ERROR_LENGTH,
    MAX_SUMMARY_LENGTH,
    SKIPPED,
    SUCCEEDED,
    JobRun,
)

log = logging.getLogger("casemgr.jobs")

DEFAULT_RETENTION_DAYS = 90
T = TypeVar("T")


def run_recorded(
    app: Flask, name: str, work: Callable[[], T], *, as_of: datetime, trigger: str
) -> T:
    """Run ``work`` (the job, with its own commit or rollback) and record the run.

    Whatever ``work`` raises is recorded as a failure and raised again. The
    record is written after ``work`` has ended, so no lock of the job's
    transaction is held any more (SQLite allows one writer).
    """
    clock = app.extensions["casemgr.clock"]
    started = clock.now()
    try:
        summary = work()
    except BaseException as exc:
        _write(app, _failed_run(name, trigger, started, clock.now(), as_of, exc))
        raise
    outcome, text, error = outcome_of(name, as_of, summary)
    _write(
        app,
        JobRun(
            job=name,
            trigger=trigger,
            started_at=started,
            finished_at=clock.now(),
            as_of=as_of,
            outcome=outcome,
            summary=text,
            error=error,
        ),
    )
    return summary


def outcome_of(name: str, as_of: datetime, summary: object) -> tuple[str, str, str | None]:
    """(outcome, summary text, error) of a run that returned ``summary``.

    A summary with failures (``JobSummary.failures``: batches rolled back)
    makes the run failed; one that says it was ``skipped`` (or ``disabled``,
    the removal check switched off) makes it skipped.
    """
    text = _clip(summary_text(name, as_of, summary), MAX_SUMMARY_LENGTH)
    failures = _value(summary, "failures") or []
    if failures:
        error = f"{len(failures)} failed: " + "; ".join(_scrub(str(f)) for f in failures)
        return FAILED, text, _clip(_one_line(error), MAX_ERROR_LENGTH)
    if _value(summary, "skipped") or _value(summary, "disabled"):
        return SKIPPED, text, None
    return SUCCEEDED, text, None


def summary_text(name: str, as_of: datetime, summary: object) -> str:
    """The job's one-line summary without its ``NAME as of ...:`` head; for a
    job that returns a mapping, its counts (the numbers in it)."""
    line = getattr(summary, "line", None)
    if callable(line):
        return str(line()).removeprefix(f"{name} as of {as_of.isoformat()}: ")
    if isinstance(summary, Mapping):
        return "; ".join(
            f"{key} {value}"
            for key, value in summary.items()
            if isinstance(value, int) and not isinstance(value, bool)
        )
    return ""


def error_text(exc: BaseException) -> str:
    """``Type: first line of the message``. A database error gives its driver's
    message, never the statement or its parameters (which may hold case data)."""
    shown: BaseException = exc
    if isinstance(exc, StatementError) and exc.orig is not None:
        shown = exc.orig
    message = _one_line(str(shown).strip().splitlines()[0] if str(shown).strip() else "")
    text = type(shown).__name__ + (f": {message}" if message else "")
    return _clip(text, MAX_ERROR_LENGTH)


def retention_period(config: Mapping[str, Any]) -> timedelta:
    days = config.get("JOB_RUN_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    if isinstance(days, bool) or not isinstance(days, int | float) or days < 1:
        raise ValueError(
            f"JOB_RUN_RETENTION_DAYS must be a number of days (1 or more), not {days!r}"
        )
    return timedelta(days=days)


def prune(session: Session, job: str, *, before: datetime) -> int:
    """Delete ``job``'s runs that started before ``before``, but its last success."""
    last_success = (
        select(func.max(JobRun.id))
        .where(JobRun.job == job, JobRun.outcome == SUCCEEDED)
        .scalar_subquery()
    )
    result = session.execute(
        delete(JobRun)
        .where(
            JobRun.job == job,
            JobRun.started_at < before,
            JobRun.id != func.coalesce(last_success, 0),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _write(app: Flask, run: JobRun) -> None:
    """Insert ``run`` and prune, in a session and transaction of their own.

    A failure to record is logged, never raised: it must not hide the job's
    own error, nor fail a run that did its work."""
    try:
        with Session(db.engine) as session:
            session.add(run)
            try:
                cutoff = run.started_at - retention_period(app.config)
            except ValueError as exc:
                log.error("job runs are not pruned: %s", exc)
            else:
                session.flush()
                prune(session, run.job, before=cutoff)
            session.commit()
    except Exception:
        log.exception("the run of job %s could not be recorded", run.job)


def _failed_run(
    name: str,
    trigger: str,
    started: datetime,
    finished: datetime,
    as_of: datetime,
    exc: BaseException,
) -> JobRun:
    return JobRun(
        job=name,
        trigger=trigger,
        started_at=started,
        finished_at=finished,
        as_of=as_of,
        outcome=FAILED,
        summary="",
        error=error_text(exc),
    )


# Where a database error's text goes on to the statement, its values or the
# driver's detail (which may quote a row): a recorded failure stops before them.
_DATABASE_DETAIL = ("[SQL:", "[parameters:", "DETAIL:", "(Background on this error")


def _scrub(failure: str) -> str:
    for marker in _DATABASE_DETAIL:
        failure = failure.split(marker, 1)[0]
    return failure.strip()


def _value(summary: object, name: str) -> Any:
    if isinstance(summary, Mapping):
        return summary.get(name)
    return getattr(summary, name, None)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Purge reporters' contact details a while after their report is dealt with.

A submission's contact details are deleted (the submission and its cases are
kept) once every case of the submission is closed and the newest closing is
older than ``CONTACT_RETENTION_DAYS`` (default 90). A case that was reopened
is open again, so it holds the contact back until it closes once more. Each
purge is audited. Running the job twice purges nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from casemgr.audit.services import record
from casemgr.cases.models import Case, Submission
from casemgr.cases.states import Status
from casemgr.reporter.models import ReporterMessage
from casemgr.reporter.services import purge_messages

DEFAULT_RETENTION_DAYS = 90


def retention_period(settings: Mapping[str, Any]) -> timedelta:
    days = settings.get("CONTACT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    if isinstance(days, bool) or not isinstance(days, int | float) or days < 0:
        raise ValueError(f"CONTACT_RETENTION_DAYS must be a number of days, not {days!r}")
    return timedelta(days=days)


def due_for_purge(session: Session, cutoff: datetime) -> list[Submission]:
    """Submissions holding contact details (or the reporter's messages) whose
    cases all closed before ``cutoff``."""
    has_open_case = exists().where(
        Case.submission_id == Submission.id, Case.status != Status.CLOSED
    )
    has_messages = exists().where(ReporterMessage.submission_id == Submission.id)
    newest_closing = (
        select(func.max(Case.closed_at))
        .where(Case.submission_id == Submission.id)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(Submission)
            .where(
                Submission.reporter_contact.is_not(None) | has_messages,
                ~has_open_case,
                newest_closing < cutoff,
            )
            .order_by(Submission.id)
        ).all()
    )


def run(session: Session, now: datetime, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Purge what is due as of ``now``; return what was done."""
    cutoff = now - retention_period(settings)
    purged = []
    for submission in due_for_purge(session, cutoff):
        submission.reporter_contact = None
        submission.contact_purged_at = now
        messages = purge_messages(session, submission.id)
        record(
            session,
            action="contact.purge",
            now=now,
            target_type="submission",
            target_id=submission.id,
            details={
                "submission": submission.reference,
                "closed_before": cutoff.isoformat(),
                "messages": messages,
            },
        )
        purged.append(submission.reference)
    session.flush()
    return {"purged": len(purged), "closed_before": cutoff.isoformat(), "submissions": purged}

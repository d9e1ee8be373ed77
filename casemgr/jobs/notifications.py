"""The notifications run: tell who must act once when a case becomes overdue.

That is the case's assignee, or every active supervisor when no active member
of staff has the case (nobody took it, or the assignee was deactivated); see
``casemgr.notifications.services.notify_overdue``.

``flask --app wsgi jobs run notifications``; the scheduler runs it every few
minutes. Idempotent: a notification is keyed by (case, due time), so a run
repeated, or two at once, notifies once; a case given a new due time is
notified again when that one passes.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from casemgr.jobs.base import JobSummary
from casemgr.notifications import services as notifications

NAME = "notifications"


class NotificationsSummary(JobSummary):
    def line(self) -> str:
        return (
            f"{self.job} as of {self.now.isoformat()}: {self.counts['overdue']} overdue "
            f"notified; {self.failed} errors"
        )


def run(session: Session, now: datetime, app: Flask) -> NotificationsSummary:
    summary = NotificationsSummary(NAME, now)
    summary.counts["overdue"] += notifications.notify_overdue(
        session, now=now, timezone=app.extensions["casemgr.timezone"]
    )
    return summary

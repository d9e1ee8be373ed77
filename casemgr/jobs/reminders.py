"""The reminder run: reminders, escalations, and police holds due for review.

For every ``notice_sent``, ``forwarded`` and ``with_police`` case whose
``next_reminder_at`` has come (read through the partial index
``ix_cases_next_reminder``, so the cost follows the cases due, not all cases):

- a reminder to whoever has the case (the hosting provider for
  ``notice_sent``, the partner hotline for ``forwarded``, the police for
  ``with_police``), one letter per recipient per run, following up the
  original notice or referral; the case's next reminder is one
  ``REMINDER_INTERVAL_HOURS`` later and its ``reminder_count`` goes up;
- after ``REMINDERS_BEFORE_ESCALATION`` unanswered reminders, an escalation
  letter (to the police contact set on the case, else to the supervisors)
  and an alert for supervisors; automatic chasing of the case ends there;
- a police hold due for review (``POLICE_HOLD_REVIEW_DAYS``): an alert for
  supervisors, no letter to police; the next review a period later.

None of this changes a case's state: it is recorded in the case's history as
``reminder_sent``, ``escalated`` or ``hold_review_due``. ``confirm_takedown``
clears ``next_reminder_at``, which stops all of it at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from casemgr.jobs.base import JobSummary, flag_orphans, run_batch
from casemgr.notices.reminders import (
    HOLD_REVIEW,
    NEEDS_RECIPIENT,
    ReminderStep,
    due_for_reminder,
    review_holds,
    send_reminder_letter,
)
from casemgr.notices.wording import NoticeSettings, Renderer

NAME = "reminders"
_HOLD_REVIEW_LOCK = -1  # the other keys are recipients' ids, and 0 for the supervisors


def run(
    session: Session, now: datetime, app: Flask, *, renderer: Renderer | None = None
) -> JobSummary:
    """Run as of ``now`` with the settings of ``app``; ``renderer`` replaces the PDF renderer."""
    return send_all(session, now, NoticeSettings.from_app(app, renderer=renderer))


def send_all(session: Session, now: datetime, settings: NoticeSettings) -> JobSummary:
    summary = JobSummary(NAME, now)
    groups: dict[ReminderStep, list[int]] = defaultdict(list)
    for case_id, step in due_for_reminder(session, now, settings):
        groups[step].append(case_id)
    session.commit()  # the reading is done: each letter has a transaction of its own

    holds = groups.pop(HOLD_REVIEW, [])
    if holds:
        raised = run_batch(
            session,
            summary,
            label="police hold reviews",
            lock=(NAME, _HOLD_REVIEW_LOCK),
            work=lambda: review_holds(session, holds, now=now, settings=settings),
        )
        if raised is not None:
            summary.counts["hold_reviews"] += len(holds)
            summary.counts["alerts"] += raised

    orphans = groups.pop(NEEDS_RECIPIENT, [])
    flag_orphans(
        session,
        summary,
        orphans,
        kind="needs_recipient",
        label="cases without a recipient",
        now=now,
    )

    order = {"reminder": 0, "escalation": 1}
    for step, case_ids in sorted(
        groups.items(), key=lambda item: (order[item[0].kind], item[0].recipient_id or 0)
    ):
        recipient = (
            "the supervisors" if step.recipient_id is None else f"organisation {step.recipient_id}"
        )

        def batch(step: ReminderStep = step, case_ids: list[int] = case_ids):
            notice = send_reminder_letter(
                session, step.kind, step.recipient_id, case_ids, now=now, settings=settings
            )
            return notice and (notice.reference, notice.case_count)

        made = run_batch(
            session,
            summary,
            label=f"{step.kind} to {recipient}",
            lock=(NAME, step.recipient_id or 0),
            work=batch,
        )
        if made:
            summary.add_letter(step.kind, *made)
            if step.kind == "escalation":
                summary.counts["alerts"] += 1
    return summary

"""Chasing cases that wait for removal: reminders, escalations, hold reviews.

Its own module because it works from the case's ``next_reminder_at`` (the
step a due case is at, see :class:`ReminderStep`) rather than from a change
of state, and because what it does beside letters (alerts for supervisors:
escalations, police holds to review, cases a run cannot serve) is part of
the same chase. Functions take the session, ``now`` and the settings; they
flush but never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.alerts.services import raise_alert
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.cases.states import AWAITING_REMOVAL, Status
from casemgr.directory.models import Organisation
from casemgr.domain import SYSTEM_ACTOR
from casemgr.localtime import format_date
from casemgr.notices import locks
from casemgr.notices.letters import Recipient, earliest, notice_reference, store_letter
from casemgr.notices.models import Notice, NoticeCase
from casemgr.notices.wording import NoticeSettings

# In a fixed order, so that the statement reads the same on every run.
_CHASED_STATUSES = sorted(AWAITING_REMOVAL)


class ReminderStep(NamedTuple):
    """What a due case needs now: ``hold_review``, ``reminder``, ``escalation``,
    or ``needs_recipient`` (the organisation to remind is gone). ``recipient_id``
    is None for an escalation to the supervisors."""

    kind: str
    recipient_id: int | None


HOLD_REVIEW = ReminderStep("hold_review", None)
NEEDS_RECIPIENT = ReminderStep("needs_recipient", None)


def reminder_step(
    status: str,
    police_hold: bool,
    provider_id: int | None,
    partner_id: int | None,
    police_id: int | None,
    reminder_count: int,
    before_escalation: int,
) -> ReminderStep:
    """The step a due case is at (plain comparisons: the sweep calls this per row)."""
    if police_hold and status == Status.WITH_POLICE:
        return HOLD_REVIEW
    if reminder_count >= before_escalation:
        return ReminderStep("escalation", police_id)
    if status == Status.NOTICE_SENT:
        recipient = provider_id
    elif status == Status.FORWARDED:
        recipient = partner_id
    else:
        recipient = police_id
    if recipient is None:
        return NEEDS_RECIPIENT
    return ReminderStep("reminder", recipient)


def step_of(case: Case, settings: NoticeSettings) -> ReminderStep:
    return reminder_step(
        status=case.status,
        police_hold=case.police_hold,
        provider_id=case.provider_id,
        partner_id=case.partner_id,
        police_id=case.police_id,
        reminder_count=case.reminder_count,
        before_escalation=settings.timings.reminders_before_escalation,
    )


def due_for_reminder(
    session: Session, now: datetime, settings: NoticeSettings
) -> list[tuple[int, ReminderStep]]:
    """(case id, step) of every case whose reminder is due at ``now``, oldest first.

    Read through the partial index ``ix_cases_next_reminder``, so the cost is
    in proportion to the cases due, not to all cases. (A Core select of plain
    columns: the ORM's per-row work would double the time of this sweep.)
    """
    c = Case.__table__.c
    rows = session.execute(
        select(
            c.id,
            c.status,
            c.police_hold,
            c.provider_id,
            c.partner_id,
            c.police_id,
            c.reminder_count,
        )
        .where(c.next_reminder_at <= now, c.status.in_(_CHASED_STATUSES))
        .order_by(c.next_reminder_at, c.id)
    ).all()
    before = settings.timings.reminders_before_escalation
    return [(row[0], reminder_step(*row[1:], before)) for row in rows]


def next_reminder(step_at: datetime, interval: timedelta, now: datetime) -> datetime:
    """The next due time after serving ``step_at``: one interval later, or one
    interval from now when the run is late (no burst of letters to catch up)."""
    following = step_at + interval
    return following if following > now else now + interval


def _lock_due(session: Session, case_ids: Iterable[int], now: datetime) -> list[Case]:
    return locks.lock_cases(
        session,
        case_ids,
        Case.next_reminder_at <= now,
        Case.status.in_(_CHASED_STATUSES),
    )


def originals(session: Session, case_ids: Sequence[int]) -> dict[int, Notice]:
    """The latest notice or referral of each case: what a reminder follows up."""
    latest: dict[int, Notice] = {}
    rows = session.execute(
        select(NoticeCase.case_id, Notice)
        .join(Notice, Notice.id == NoticeCase.notice_id)
        .where(NoticeCase.case_id.in_(case_ids), NoticeCase.kind.in_(("notice", "referral")))
        .order_by(Notice.created_at, Notice.id)
    ).all()
    for case_id, notice in rows:
        latest[case_id] = notice
    return latest


def send_reminder_letter(
    session: Session,
    kind: str,
    recipient_id: int | None,
    case_ids: Iterable[int],
    *,
    now: datetime,
    settings: NoticeSettings,
) -> Notice | None:
    """One reminder (or escalation) to one recipient about the cases among
    ``case_ids`` still due at ``now`` for that very step.

    A reminder sets the case's next due time one ``REMINDER_INTERVAL`` on and
    counts it; an escalation (after ``REMINDERS_BEFORE_ESCALATION`` reminders)
    goes to the case's police contact, else to the supervisors, raises an
    alert, and ends the automatic chasing of the case: it stays overdue on
    the queue until someone acts on it.
    """
    if kind not in ("reminder", "escalation"):
        raise ValueError(f"not a reminder kind: {kind!r}")
    locked = _lock_due(session, case_ids, now)
    covered = [c for c in locked if step_of(c, settings) == ReminderStep(kind, recipient_id)]
    if not covered:
        return None
    if recipient_id is None:
        recipient = Recipient.supervisors(settings)
    else:
        organisation = session.get(Organisation, recipient_id)
        if organisation is None:
            return None
        recipient = Recipient.of(organisation)
    reference = notice_reference(session, settings.reference_prefix, now)
    steps = {case.id: case.next_reminder_at for case in covered}
    numbers = {case.reminder_count + 1 for case in covered}
    interval = settings.timings.reminder_interval
    for case in covered:
        step_at = case.next_reminder_at
        assert step_at is not None  # selected by next_reminder_at <= now
        case.reminder_count += 1
        case.updated_at = now
        if kind == "reminder":
            case.next_reminder_at = next_reminder(step_at, interval, now)
            fields: dict[str, Any] = {"reminder": case.reminder_count}
        else:
            case.next_reminder_at = None
            fields = {}
        cases.record_event(
            session,
            case,
            "reminder_sent" if kind == "reminder" else "escalated",
            actor=SYSTEM_ACTOR,
            now=now,
            fields={"notice": reference, "to": recipient.name, **fields},
        )
    notice = store_letter(
        session,
        kind=kind,
        reference=reference,
        recipient=recipient,
        covered=covered,
        steps=steps,  # type: ignore[arg-type]
        now=now,
        settings=settings,
        deadline=earliest(c.next_reminder_at for c in covered) if kind == "reminder" else None,
        follows=originals(session, [c.id for c in covered]),
        reminder_number=numbers.pop() if kind == "reminder" and len(numbers) == 1 else None,
    )
    if kind == "escalation":
        raise_alert(
            session,
            kind="escalation",
            key=f"escalation:{notice.reference}",
            message=(
                f"Escalation {notice.reference} to {recipient.name}: removal of "
                f"{len(covered)} URL(s) still not confirmed after "
                f"{settings.timings.reminders_before_escalation} reminder(s)."
            ),
            now=now,
            case_id=covered[0].id if len(covered) == 1 else None,
            notice_id=notice.id,
        )
    return notice


def review_holds(
    session: Session, case_ids: Iterable[int], *, now: datetime, settings: NoticeSettings
) -> int:
    """Police holds due for review: an alert to supervisors per case (no letter
    to police), and the next review one ``POLICE_HOLD_REVIEW_DAYS`` later."""
    raised = 0
    for case in _lock_due(session, case_ids, now):
        if step_of(case, settings) != HOLD_REVIEW:
            continue
        step_at = case.next_reminder_at
        assert step_at is not None
        since = format_date(case.hold_since, settings.timezone) if case.hold_since else "?"
        raised += raise_alert(
            session,
            kind="hold_review",
            key=f"hold_review:{case.id}:{step_at.isoformat()}",
            message=(
                f"Police hold on {case.reference} since {since}: review whether to release it."
            ),
            now=now,
            case_id=case.id,
        )
        cases.record_event(
            session,
            case,
            "hold_review_due",
            actor=SYSTEM_ACTOR,
            now=now,
            fields={"hold_since": case.hold_since},
        )
        case.next_reminder_at = next_reminder(step_at, settings.timings.police_hold_review, now)
        case.updated_at = now
    session.flush()
    return raised


def flag_cases(
    session: Session, case_ids: Iterable[int], *, kind: str, now: datetime
) -> tuple[int, int]:
    """Alert supervisors once about cases a run cannot serve: ``needs_provider``
    (a pending notice whose provider is gone or deactivated) or
    ``needs_recipient`` (a reminder due to an organisation that is gone).
    The cases are left as they are. Returns (cases, alerts raised)."""
    found = list(session.scalars(select(Case).where(Case.id.in_(sorted(set(case_ids))))).all())
    raised = 0
    for case in found:
        if kind == "needs_provider":
            step = case.notice_requested_at or case.received_at
            message = (
                f"{case.reference} is queued for a takedown notice, but its hosting provider "
                "was removed from the directory or deactivated: choose another route."
            )
        else:
            step = case.next_reminder_at or case.received_at
            message = (
                f"A reminder about {case.reference} is due, but the organisation it would "
                "go to was removed from the directory: choose another route."
            )
        raised += raise_alert(
            session,
            kind=kind,
            key=f"{kind}:{case.id}:{step.isoformat()}",
            message=message,
            now=now,
            case_id=case.id,
        )
    return len(found), raised

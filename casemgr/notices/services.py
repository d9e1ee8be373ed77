"""Letters and alerts: making, storing, finding and exporting them.

Functions take the session, ``now`` and the settings as arguments; they flush
but never commit. The jobs (``casemgr.jobs.notices``, ``casemgr.jobs.reminders``)
call the ``send_*`` functions once per recipient, each in its own transaction.

No letter twice: how it is guaranteed
-------------------------------------
A letter and the case changes it stands for are written in one transaction,
so a failure leaves neither. Two processes running the same job at the same
moment (two servers on PostgreSQL) are kept from writing the same letter by
three layers, each enough on its own for correctness, together also for
"one letter per recipient per run":

1. an advisory lock per (job, recipient), ``pg_try_advisory_xact_lock``,
   taken at the start of the recipient's transaction: a process that finds it
   taken skips that recipient (the holder is writing that very letter) and
   counts it as ``busy``; the lock goes with the transaction;
2. the cases are read again ``FOR UPDATE SKIP LOCKED`` with the conditions
   that made them due (status, recipient, due time). In READ COMMITTED,
   PostgreSQL re-checks those conditions on the newest version of a row it
   locks, so a case that another transaction has just served is not taken
   again, and a case a person is acting on right now is left for the next
   run;
3. the unique key (case_id, kind, step_at) of ``notice_cases``: the step is
   the moment of the case's life the letter answers (the notice request,
   the forwarding or referral, the due time of a reminder), computed the same
   by every process that sees the case in the same state. Should the two
   layers above ever be bypassed, the second letter's transaction fails on
   this key and rolls back whole, its cases untouched. (The ``version``
   column of cases, checked on every UPDATE, is a fourth: it is what guards
   SQLite, which has neither advisory nor row locks.)
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, Any, NamedTuple

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.orm import Session, selectinload, undefer

from casemgr import events
from casemgr.alerts.services import raise_alert
from casemgr.audit.services import record
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.cases.workflow import Action, Status
from casemgr.directory.models import Organisation
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import Conflict, NotFound, ValidationFailed
from casemgr.notices.models import KINDS, SUPERVISORS, Notice, NoticeCase
from casemgr.notices.pdf.letter import Letter, LetterLine
from casemgr.notices.wording import NoticeSettings

# --------------------------------------------------------------------- references


def notice_reference(session: Session, prefix: str, now: datetime) -> str:
    """``CM-N-2026-000001``: one series for letters of every kind, per year."""
    return f"{prefix}-N-{now.year}-{cases.next_number(session, f'notice-{now.year}'):06d}"


# -------------------------------------------------------------------------- locks


def _lock_space(job: str) -> int:
    """A stable 32-bit signed number naming the job's advisory locks."""
    value = zlib.crc32(f"casemgr.jobs.{job}".encode())
    return value - 2**32 if value >= 2**31 else value


def try_lock(session: Session, job: str, key: int) -> bool:
    """Take the advisory lock (job, key) for this transaction, if free.

    PostgreSQL only; elsewhere (SQLite, one writer at a time) always True.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:space, :key)"),
            {"space": _lock_space(job), "key": key},
        )
    )


def _lock_cases(session: Session, ids: Iterable[int], *conditions: ColumnElement) -> list[Case]:
    """The cases of ``ids`` that still meet ``conditions``, locked for this transaction;
    those another transaction holds are skipped (they wait for the next run)."""
    ids = sorted(set(ids))
    if not ids:
        return []
    statement = (
        select(Case)
        .where(Case.id.in_(ids), *conditions)
        .order_by(Case.id)
        .with_for_update(skip_locked=True, of=Case)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(statement).all())


# ------------------------------------------------------------------------ letters


@dataclass(frozen=True)
class Recipient:
    """Who a letter goes to, as it will be stored (a snapshot)."""

    id: int | None
    kind: str
    name: str
    email: str | None
    address: str
    language: str

    @classmethod
    def of(cls, organisation: Organisation) -> Recipient:
        return cls(
            id=organisation.id,
            kind=organisation.kind,
            name=organisation.name,
            email=(organisation.email or "").strip() or None,
            address=organisation.address or "",
            language=organisation.language or "en",
        )

    @classmethod
    def supervisors(cls, settings: NoticeSettings) -> Recipient:
        return cls(
            id=None,
            kind=SUPERVISORS,
            name=f"Supervisors, {settings.letterhead.name}",
            email=settings.supervisors_email,
            address=settings.letterhead.address,
            language="en",
        )


def store_letter(
    session: Session,
    *,
    kind: str,
    reference: str,
    recipient: Recipient,
    covered: Sequence[Case],
    steps: dict[int, datetime],
    now: datetime,
    settings: NoticeSettings,
    deadline: datetime | None,
    follows: dict[int, Notice] | None = None,
    reminder_number: int | None = None,
) -> Notice:
    """Render the letter of ``kind`` about ``covered`` to ``recipient`` and store it.

    ``steps`` gives each case's step (see the module docstring); ``follows``
    the letter each line follows up, whose references the letter prints.
    """
    follows = follows or {}
    wording = settings.wording_for(recipient.language)
    followed = [follows[c.id] for c in covered if c.id in follows]
    previous = _previous_reference(followed)
    notified = ", ".join(sorted({n.recipient_name for n in followed}))
    labels = dict(wording.labels)
    if previous and ", " in previous:
        labels.setdefault("previous_notice", "our notices {reference}")
        labels.setdefault("previous_reference", "Original notices")
    letter = Letter(
        kind=kind,
        reference=reference,
        date=now,
        recipient_name=recipient.name,
        recipient_address=recipient.address,
        recipient_email=recipient.email or "",
        lines=[
            LetterLine(
                case_reference=case.reference,
                url=case.url,
                first_seen=case.received_at,
                classification_basis=settings.basis_for(case.classification, wording.language),
            )
            for case in covered
        ],
        deadline=deadline,
        legal_basis=settings.fill(wording.legal_basis, reference=reference, notified=notified),
        request=settings.fill(
            wording.request_for(kind, recipient.kind), reference=reference, notified=notified
        ),
        closing=settings.fill(wording.closing, reference=reference, notified=notified),
        language=wording.language,
        previous_reference=previous,
        reminder_number=reminder_number,
        title=wording.titles.get(kind),
        labels=labels,
    )
    pdf = settings.renderer(letter, settings.letterhead)
    notice = Notice(
        reference=reference,
        kind=kind,
        recipient_id=recipient.id,
        recipient_kind=recipient.kind,
        recipient_name=recipient.name,
        recipient_email=recipient.email,
        recipient_address=recipient.address,
        language=wording.language,
        manual_delivery=recipient.email is None,
        previous_reference=previous,
        deadline=deadline,
        case_count=len(covered),
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        created_at=now,
        links=[
            NoticeCase(
                case_id=case.id,
                kind=kind,
                step_at=steps[case.id],
                follows_id=follows[case.id].id if case.id in follows else None,
            )
            for case in covered
        ],
    )
    session.add(notice)
    session.flush()
    events.letter_stored.send(session, notice=notice, now=now)
    return notice


_MAX_PREVIOUS_SHOWN = 4


def _previous_reference(notices: Iterable[Notice]) -> str | None:
    references = sorted({n.reference for n in notices})
    if len(references) > _MAX_PREVIOUS_SHOWN:
        shown = ", ".join(references[:_MAX_PREVIOUS_SHOWN])
        return f"{shown} (+{len(references) - _MAX_PREVIOUS_SHOWN})"
    return ", ".join(references) or None


def _earliest(values: Iterable[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


# ------------------------------------------------------------------ the notice run


def send_notice_letter(
    session: Session,
    provider_id: int,
    case_ids: Iterable[int],
    *,
    now: datetime,
    settings: NoticeSettings,
) -> Notice | None:
    """One takedown notice to the provider about its ``notice_pending`` cases among
    ``case_ids``; each moves to ``notice_sent`` through the workflow. None when
    no case is (still) pending for it."""
    provider = session.get(Organisation, provider_id)
    if provider is None or not provider.active:
        return None
    covered = _lock_cases(
        session,
        case_ids,
        Case.status == Status.NOTICE_PENDING,
        Case.provider_id == provider_id,
    )
    if not covered:
        return None
    reference = notice_reference(session, settings.reference_prefix, now)
    steps = {case.id: case.notice_requested_at or case.received_at for case in covered}
    for case in covered:
        cases.apply_action(
            session,
            case,
            Action.SEND_NOTICE,
            {},
            actor=SYSTEM_ACTOR,
            now=now,
            timings=settings.timings,
            extra={"notice": reference},
            flush=False,  # store_letter flushes the letter and its cases at once
        )
    return store_letter(
        session,
        kind="notice",
        reference=reference,
        recipient=Recipient.of(provider),
        covered=covered,
        steps=steps,
        now=now,
        settings=settings,
        deadline=_earliest(case.due_at for case in covered),
    )


def referral_step(case: Case) -> datetime | None:
    """The moment a referral answers: the forwarding, or the referral to police."""
    if case.status == Status.FORWARDED:
        return case.forwarded_at
    if case.status == Status.WITH_POLICE:
        return case.referred_at
    return None


def referral_recipient_id(case: Case) -> int | None:
    return case.partner_id if case.status == Status.FORWARDED else case.police_id


def cases_awaiting_referral(session: Session) -> list[tuple[int, int | None]]:
    """(case id, recipient id) of forwarded and referred cases that have no
    referral letter for their current forwarding or referral yet."""
    link = NoticeCase.__table__

    def unanswered(step: Any) -> ColumnElement:
        return ~(
            select(link.c.case_id)
            .where(
                link.c.case_id == Case.id,
                link.c.kind == "referral",
                link.c.step_at == step,
            )
            .exists()
        )

    rows = session.execute(
        select(Case.id, Case.status, Case.partner_id, Case.police_id)
        .where(
            ((Case.status == Status.FORWARDED) & unanswered(Case.forwarded_at))
            | ((Case.status == Status.WITH_POLICE) & unanswered(Case.referred_at))
        )
        .order_by(Case.id)
    ).all()
    return [
        (row.id, row.partner_id if row.status == Status.FORWARDED else row.police_id)
        for row in rows
    ]


def send_referral_letter(
    session: Session,
    recipient_id: int,
    case_ids: Iterable[int],
    *,
    now: datetime,
    settings: NoticeSettings,
) -> Notice | None:
    """One referral letter to a partner hotline or police about the cases among
    ``case_ids`` forwarded or referred to it that have none yet."""
    organisation = session.get(Organisation, recipient_id)
    if organisation is None or not organisation.active:
        return None
    locked = _lock_cases(
        session,
        case_ids,
        ((Case.status == Status.FORWARDED) & (Case.partner_id == recipient_id))
        | ((Case.status == Status.WITH_POLICE) & (Case.police_id == recipient_id)),
    )
    done = {
        (row.case_id, row.step_at)
        for row in session.execute(
            select(NoticeCase.case_id, NoticeCase.step_at).where(
                NoticeCase.case_id.in_([c.id for c in locked]), NoticeCase.kind == "referral"
            )
        )
    }
    covered = [
        c for c in locked if referral_step(c) is not None and (c.id, referral_step(c)) not in done
    ]
    if not covered:
        return None
    reference = notice_reference(session, settings.reference_prefix, now)
    notice = store_letter(
        session,
        kind="referral",
        reference=reference,
        recipient=Recipient.of(organisation),
        covered=covered,
        steps={case.id: referral_step(case) for case in covered},  # type: ignore[misc]
        now=now,
        settings=settings,
        deadline=_earliest(case.due_at for case in covered),
    )
    for case in covered:
        cases.record_event(
            session,
            case,
            "referral_sent",
            actor=SYSTEM_ACTOR,
            now=now,
            fields={"notice": reference, "to": organisation.name},
        )
    session.flush()
    return notice


# ---------------------------------------------------------------- the reminder run

REMINDER_STATUSES = (Status.NOTICE_SENT, Status.FORWARDED, Status.WITH_POLICE)


class ReminderStep(NamedTuple):
    """What a due case needs now: ``hold_review``, ``reminder``, ``escalation``,
    or ``needs_recipient`` (the organisation to remind is gone). ``recipient_id``
    is None for an escalation to the supervisors."""

    kind: str
    recipient_id: int | None


_HOLD_REVIEW = ReminderStep("hold_review", None)
_NEEDS_RECIPIENT = ReminderStep("needs_recipient", None)


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
        return _HOLD_REVIEW
    if reminder_count >= before_escalation:
        return ReminderStep("escalation", police_id)
    if status == Status.NOTICE_SENT:
        recipient = provider_id
    elif status == Status.FORWARDED:
        recipient = partner_id
    else:
        recipient = police_id
    if recipient is None:
        return _NEEDS_RECIPIENT
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
        .where(c.next_reminder_at <= now, c.status.in_(REMINDER_STATUSES))
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
    return _lock_cases(
        session,
        case_ids,
        Case.next_reminder_at <= now,
        Case.status.in_(REMINDER_STATUSES),
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
        deadline=_earliest(c.next_reminder_at for c in covered) if kind == "reminder" else None,
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
        if step_of(case, settings).kind != "hold_review":
            continue
        step_at = case.next_reminder_at
        assert step_at is not None
        since = case.hold_since.strftime("%Y-%m-%d") if case.hold_since else "?"
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


# -------------------------------------------------------------------------- reading


def get_notice(session: Session, notice_id: int, *, with_pdf: bool = False) -> Notice:
    """The letter with ``notice_id``; raises NotFound."""
    statement = select(Notice).where(Notice.id == notice_id)
    if with_pdf:
        statement = statement.options(undefer(Notice.pdf))
    notice = session.scalar(statement)
    if notice is None:
        raise NotFound(f"no letter with id {notice_id}")
    return notice


def letters_for_case(session: Session, case_id: int) -> list[Notice]:
    """The letters that cover a case, newest first (without their PDF)."""
    return list(
        session.scalars(
            select(Notice)
            .join(NoticeCase, NoticeCase.notice_id == Notice.id)
            .where(NoticeCase.case_id == case_id)
            .order_by(Notice.created_at.desc(), Notice.id.desc())
        ).all()
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def notice_as_dict(notice: Notice, *, with_cases: bool = True) -> dict[str, Any]:
    """A letter as the API shows it: THE one place letters are serialised.

    ``with_cases`` lists the cases covered (``notice.links`` with their case
    loaded); leave it out where the letters of one case are listed.
    """
    data: dict[str, Any] = {
        "id": notice.id,
        "reference": notice.reference,
        "kind": notice.kind,
        "recipient": {
            "id": notice.recipient_id,
            "kind": notice.recipient_kind,
            "name": notice.recipient_name,
            "email": notice.recipient_email,
            "address": notice.recipient_address,
        },
        "language": notice.language,
        "manual_delivery": notice.manual_delivery,
        "previous_reference": notice.previous_reference,
        "deadline": _iso(notice.deadline),
        "case_count": notice.case_count,
        "sha256": notice.sha256,
        "size": notice.size,
        "created_at": _iso(notice.created_at),
        "sent_at": _iso(notice.sent_at),
        "exported_at": _iso(notice.exported_at),
        "pdf_url": f"/api/v1/notices/{notice.id}/pdf",
    }
    if with_cases:
        data["cases"] = [
            {"id": link.case_id, "reference": link.case.reference} for link in notice.links
        ]
    return data


def notices_for_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The letters about a case for the case's API representation, newest first."""
    return [notice_as_dict(n, with_cases=False) for n in letters_for_case(session, case_id)]


@dataclass(frozen=True)
class NoticeFilter:
    case_id: int | None = None
    kind: str | None = None
    recipient_id: int | None = None
    start: datetime | None = None  # created at or after
    end: datetime | None = None  # created before

    def conditions(self) -> list[ColumnElement]:
        conditions: list[ColumnElement] = []
        if self.case_id is not None:
            conditions.append(
                Notice.id.in_(
                    select(NoticeCase.notice_id).where(NoticeCase.case_id == self.case_id)
                )
            )
        if self.kind is not None:
            conditions.append(Notice.kind == self.kind)
        if self.recipient_id is not None:
            conditions.append(Notice.recipient_id == self.recipient_id)
        if self.start is not None:
            conditions.append(Notice.created_at >= self.start)
        if self.end is not None:
            conditions.append(Notice.created_at < self.end)
        return conditions


@dataclass
class NoticePage:
    items: list[Notice]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_notices(
    session: Session, filters: NoticeFilter, *, page: int = 1, per_page: int = 50
) -> NoticePage:
    """A page of letters, newest first, with the cases they cover loaded."""
    conditions = filters.conditions()
    total = session.scalar(select(func.count(Notice.id)).where(*conditions)) or 0
    items = session.scalars(
        select(Notice)
        .where(*conditions)
        .options(
            selectinload(Notice.links)
            .selectinload(NoticeCase.case)
            .load_only(Case.id, Case.reference, raiseload=True)
        )
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return NoticePage(list(items), total, page, per_page)


def mark_delivered(session: Session, notice: Notice, *, actor_id: int, now: datetime) -> Notice:
    """Record that a supervisor delivered the letter by hand (audited).

    The e-mail outbox sets ``sent_at`` itself when it delivers a letter.
    """
    if notice.sent_at is not None:
        raise Conflict(f"{notice.reference} was marked sent already")
    notice.sent_at = now
    notice.sent_by_id = actor_id
    record(
        session,
        action="notice.delivered",
        now=now,
        actor_id=actor_id,
        target_type="notice",
        target_id=notice.id,
        details={"reference": notice.reference, "recipient": notice.recipient_name},
    )
    session.flush()
    return notice


# -------------------------------------------------------------------------- export

EXPORT_FORMATS = ("pdf", "zip")


class NothingToExport(NotFound):
    """The export period holds no letter: nothing is written."""


@dataclass(frozen=True)
class ExportRequest:
    """Letters made from ``first`` to ``last`` (UTC days, both included)."""

    first: date
    last: date
    kind: str | None = None
    recipient_id: int | None = None
    format: str = "pdf"

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.last < self.first:
            errors["to"] = ["must not be before the start of the period"]
        if self.kind is not None and self.kind not in KINDS:
            errors["kind"] = [f"must be one of: {', '.join(KINDS)}"]
        if self.format not in EXPORT_FORMATS:
            errors["format"] = [f"must be one of: {', '.join(EXPORT_FORMATS)}"]
        if errors:
            raise ValidationFailed(errors)

    @property
    def filter(self) -> NoticeFilter:
        return NoticeFilter(
            kind=self.kind,
            recipient_id=self.recipient_id,
            start=datetime.combine(self.first, time(), tzinfo=UTC),
            end=datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC),
        )

    @property
    def filename(self) -> str:
        kind = f"-{self.kind}" if self.kind else ""
        return f"letters{kind}-{self.first.isoformat()}-to-{self.last.isoformat()}.{self.format}"

    @property
    def description(self) -> str:
        parts = [f"{self.first.isoformat()} to {self.last.isoformat()}"]
        if self.kind:
            parts.append(f"kind {self.kind}")
        if self.recipient_id is not None:
            parts.append(f"recipient {self.recipient_id}")
        return ", ".join(parts)


@dataclass
class ExportResult:
    filename: str
    count: int
    sha256: str
    references: list[str] = field(default_factory=list)


class _HashingWriter(io.RawIOBase):
    """Writes through to ``out`` and hashes what passes."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.position = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:  # pypdf records object offsets; seeking stays unsupported
        return self.position

    def write(self, data: Any) -> int:
        view = bytes(data)
        self.digest.update(view)
        self.out.write(view)
        self.position += len(view)
        return len(view)


def export_letters(
    session: Session,
    request: ExportRequest,
    out: IO[bytes],
    *,
    now: datetime,
    actor_id: int | None,
    max_merged: int,
    via: str,
) -> ExportResult:
    """Write the letters of a period to ``out``: one merged PDF (with a bookmark
    per letter) or a zip of the stored files with ``SHA256SUMS`` and
    ``index.csv``. Sets ``exported_at`` and audits the export with the SHA-256
    of what was written.

    Raises NothingToExport when the period holds no letter and ValidationFailed
    when a merged PDF would exceed ``max_merged`` letters; ``out`` is then
    left untouched.
    """
    conditions = request.filter.conditions()
    count = session.scalar(select(func.count(Notice.id)).where(*conditions)) or 0
    if count == 0:
        raise NothingToExport(f"no letters from {request.description}: nothing to export")
    if request.format == "pdf" and count > max_merged:
        raise ValidationFailed(
            {
                "format": [
                    f"{count} letters are more than the {max_merged} a merged PDF may hold: "
                    "choose a shorter period or the zip format"
                ]
            }
        )
    notices = session.scalars(
        select(Notice)
        .where(*conditions)
        .options(undefer(Notice.pdf))
        .order_by(Notice.created_at, Notice.id)
        .execution_options(yield_per=100)
    )
    sink = _HashingWriter(out)
    references: list[str] = []
    if request.format == "pdf":
        _write_merged(notices, sink, references, request)
    else:
        _write_zip(notices, sink, references)
    session.execute(
        update(Notice).where(*conditions).values(exported_at=now),
        execution_options={"synchronize_session": False},
    )
    record(
        session,
        action="notices.export",
        now=now,
        actor_id=actor_id,
        target_type="notice",
        details={
            "via": via,
            "from": request.first.isoformat(),
            "to": request.last.isoformat(),
            "kind": request.kind,
            "recipient_id": request.recipient_id,
            "format": request.format,
            "count": len(references),
            "sha256": sink.digest.hexdigest(),
            "references": references[:500],
        },
    )
    session.flush()
    return ExportResult(request.filename, len(references), sink.digest.hexdigest(), references)


def _write_merged(
    notices: Iterable[Notice], sink: IO[bytes], references: list[str], request: ExportRequest
) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for notice in notices:
        writer.append(PdfReader(io.BytesIO(notice.pdf)), outline_item=notice.reference)
        references.append(notice.reference)
    writer.add_metadata({"/Title": f"Letters {request.description}", "/Producer": "casemgr"})
    writer.write(sink)


_INDEX_COLUMNS = (
    "reference",
    "kind",
    "created_at",
    "recipient_id",
    "recipient_name",
    "recipient_email",
    "manual_delivery",
    "sent_at",
    "cases",
    "sha256",
    "file",
)


def _write_zip(notices: Iterable[Notice], sink: IO[bytes], references: list[str]) -> None:
    sums = io.StringIO()
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(_INDEX_COLUMNS)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for notice in notices:
            stamp = notice.created_at.astimezone(UTC).timetuple()[:6]
            archive.writestr(zipfile.ZipInfo(notice.filename, date_time=stamp), notice.pdf)
            sums.write(f"{notice.sha256}  {notice.filename}\n")
            writer.writerow(
                (
                    notice.reference,
                    notice.kind,
                    notice.created_at.isoformat(),
                    notice.recipient_id or "",
                    notice.recipient_name,
                    notice.recipient_email or "",
                    "yes" if notice.manual_delivery else "no",
                    _iso(notice.sent_at) or "",
                    notice.case_count,
                    notice.sha256,
                    notice.filename,
                )
            )
            references.append(notice.reference)
        archive.writestr("SHA256SUMS", sums.getvalue())
        archive.writestr("index.csv", index.getvalue())

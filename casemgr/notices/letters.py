"""Making and storing letters: the takedown notice and what every letter shares.

:func:`store_letter` renders a letter of any kind, stores the PDF with its
SHA-256 and sends ``events.letter_stored`` (the outbox queues the e-mail).
The notice run's :func:`cases_awaiting_notice` and :func:`send_notice_letter`,
and :func:`mark_delivered` (a letter delivered by hand) are here too;
referrals and reminders build on :func:`store_letter` in their own modules.
Functions take the session, ``now`` and the settings; they flush but never
commit. How two runs never write the same letter is told in
:mod:`casemgr.notices.locks`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr import events
from casemgr.audit.services import record
from casemgr.cases import receiving
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.cases.states import Action, Status
from casemgr.directory.models import Organisation
from casemgr.domain import SYSTEM_ACTOR, Actor, OrgKind
from casemgr.errors import Conflict
from casemgr.notices import locks
from casemgr.notices.models import SUPERVISORS, Notice, NoticeCase
from casemgr.notices.pdf.letter import Letter, LetterLine
from casemgr.notices.wording import NoticeSettings
from casemgr.responses import links


def notice_reference(session: Session, prefix: str, now: datetime) -> str:
    """``CM-N-2026-000001``: one series for letters of every kind, per year."""
    return f"{prefix}-N-{now.year}-{receiving.next_number(session, f'notice-{now.year}'):06d}"


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

    ``steps`` gives each case's step (see :mod:`casemgr.notices.locks`);
    ``follows`` the letter each line follows up, whose references the letter
    prints.
    """
    follows = follows or {}
    link = None
    if kind in RESPONSE_KINDS and recipient.kind == OrgKind.HOSTING_PROVIDER and settings.links:
        link = links.new_link(settings.links)
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
        timezone=settings.timezone,
        response_url=link.url if link else None,
        response_expires=now + settings.links.lifetime if link and settings.links else None,
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
    if link is not None and settings.links is not None:
        earlier = session.scalars(
            select(NoticeCase.notice_id).where(
                NoticeCase.case_id.in_([case.id for case in covered]),
                NoticeCase.notice_id != notice.id,
            )
        )
        links.keep_link(
            session,
            link,
            notice_id=notice.id,
            now=now,
            settings=settings.links,
            supersedes=set(earlier),
        )
        session.flush()
    events.letter_stored.send(session, notice=notice, now=now)
    return notice


# The letters that carry a response link (to a hosting provider): the provider
# answers the notice, or the reminder that follows it up.
RESPONSE_KINDS = frozenset({"notice", "reminder"})


_MAX_PREVIOUS_SHOWN = 4


def _previous_reference(notices: Iterable[Notice]) -> str | None:
    references = sorted({n.reference for n in notices})
    if len(references) > _MAX_PREVIOUS_SHOWN:
        shown = ", ".join(references[:_MAX_PREVIOUS_SHOWN])
        return f"{shown} (+{len(references) - _MAX_PREVIOUS_SHOWN})"
    return ", ".join(references) or None


def earliest(values: Iterable[datetime | None]) -> datetime | None:
    """The earliest of the moments given (a letter's deadline); None if none is set."""
    present = [v for v in values if v is not None]
    return min(present) if present else None


def cases_awaiting_notice(session: Session) -> tuple[dict[int, list[int]], list[int]]:
    """The ``notice_pending`` cases: their ids by active provider, and those with
    no provider or an inactive one (a notice cannot go to it), by id."""
    pending = session.execute(
        select(Case.id, Case.provider_id)
        .where(Case.status == Status.NOTICE_PENDING)
        .order_by(Case.id)
    ).all()
    provider_ids = {row.provider_id for row in pending if row.provider_id is not None}
    active = set(
        session.scalars(
            select(Organisation.id).where(Organisation.id.in_(provider_ids), Organisation.active)
        ).all()
    )
    by_provider: dict[int, list[int]] = defaultdict(list)
    without_provider: list[int] = []
    for row in pending:
        if row.provider_id in active:
            by_provider[row.provider_id].append(row.id)
        else:
            without_provider.append(row.id)
    return by_provider, without_provider


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
    covered = locks.lock_cases(
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
        deadline=earliest(case.due_at for case in covered),
    )


def mark_delivered(session: Session, notice: Notice, *, actor: Actor, now: datetime) -> Notice:
    """Record that a supervisor delivered the letter by hand (audited).

    The e-mail outbox sets ``sent_at`` itself when it delivers a letter.
    """
    if notice.sent_at is not None:
        raise Conflict(f"{notice.reference} was marked sent already")
    notice.sent_at = now
    notice.sent_by_id = actor.id
    record(
        session,
        action="notice.delivered",
        now=now,
        actor_id=actor.id,
        target_type="notice",
        target_id=notice.id,
        details={"reference": notice.reference, "recipient": notice.recipient_name},
    )
    session.flush()
    return notice

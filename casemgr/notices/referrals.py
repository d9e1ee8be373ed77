"""Referral letters: to the partner hotline or police a case was passed to.

Its own module because a referral answers a different step of a case's life
(the forwarding, or the referral to police) and changes no case state: the
notice run finds the cases still without one and writes one letter per
recipient, recorded in each case's history as ``referral_sent``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.cases.states import Status
from casemgr.directory.models import Organisation
from casemgr.domain import SYSTEM_ACTOR
from casemgr.notices import locks
from casemgr.notices.letters import Recipient, earliest, notice_reference, store_letter
from casemgr.notices.models import Notice, NoticeCase
from casemgr.notices.wording import NoticeSettings


def referral_step(case: Case) -> datetime | None:
    """The moment a referral answers: the forwarding, or the referral to police."""
    if case.status == Status.FORWARDED:
        return case.forwarded_at
    if case.status == Status.WITH_POLICE:
        return case.referred_at
    return None


def _api_only_partner() -> ColumnElement[bool]:
    """The case's partner takes forwarded cases over its API alone
    (:attr:`Organisation.forwards_by_letter` false): no referral letter is
    written to it. The one place that choice is made for letters."""
    return (
        select(Organisation.id)
        .where(
            Organisation.id == Case.partner_id,
            Organisation.forward_by == "api",
            Organisation.api_base_url.is_not(None),
            Organisation.api_token_encrypted.is_not(None),
        )
        .exists()
    )


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
            (
                (Case.status == Status.FORWARDED)
                & unanswered(Case.forwarded_at)
                & ~_api_only_partner()
            )
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
    if organisation.kind == "hotline" and not organisation.forwards_by_letter:
        return None  # its API carries the cases (casemgr.partners)
    locked = locks.lock_cases(
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
        deadline=earliest(case.due_at for case in covered),
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

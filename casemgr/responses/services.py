"""Opening a letter by its response link, and recording the provider's answers.

A provider answers per URL of the letter (:class:`Answer`). What each answer
does to the case is the workflow's (``casemgr.cases.workflow``): *removed*
takes ``report_removal`` (an analyst verifies) or, for a provider the hotline
trusts, ``accept_reported_removal`` (the case closes on its word); *not
hosted by us* and *cannot remove* take ``decline_notice`` (the case goes back
to be routed again) and raise a supervisors' alert; *need more information*
changes nothing but the history. Every answer is kept as given
(:class:`ProviderResponse`), recorded on the case as the provider's (the
system acts, the event names the organisation), audited, and the assignee is
notified. Functions take the session and ``now``; they flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casemgr.alerts.services import raise_alert
from casemgr.audit.services import record
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.cases.states import Action, Attention, RemovalSource
from casemgr.directory.models import Organisation
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import WorkflowError
from casemgr.notices.models import Notice, NoticeCase
from casemgr.notifications.services import notify_assignees
from casemgr.responses.links import find_link
from casemgr.responses.models import ANSWERS, ProviderResponse, ResponseLink
from casemgr.settings import Timings

REMOVED, NOT_HOSTED, CANNOT_REMOVE, NEED_INFORMATION = ANSWERS
# The longest text a provider may give for one URL (a reason, a question).
MAX_MESSAGE = 2000
MAX_HOSTED_BY = 500
# The event that records an answer which changes nothing on the case.
RESPONSE_EVENT = "provider_response"


@dataclass(frozen=True)
class OpenLetter:
    """A letter opened by a working link: what its page may show, and nothing more."""

    link: ResponseLink
    notice: Notice
    cases: Sequence[Case]
    answered: dict[int, ProviderResponse]  # case id -> its latest answer on this letter


def open_letter(session: Session, token: str, *, now: datetime) -> OpenLetter | None:
    """The letter behind ``token`` if the link works now; None for a link that is
    wrong, expired or superseded (the page says the same for each)."""
    link = find_link(session, token)
    if link is None or link.expires_at <= now or link.superseded_at is not None:
        return None
    notice = session.get(Notice, link.notice_id)
    if notice is None:
        return None
    covered = list(
        session.scalars(
            select(Case)
            .join(NoticeCase, NoticeCase.case_id == Case.id)
            .where(NoticeCase.notice_id == notice.id)
            .order_by(Case.id)
        )
    )
    answers = session.scalars(
        select(ProviderResponse)
        .where(ProviderResponse.notice_id == notice.id)
        .order_by(ProviderResponse.id)
    )
    return OpenLetter(link, notice, covered, {a.case_id: a for a in answers})


@dataclass(frozen=True)
class Answer:
    """One URL's answer, as the page's form or a test gives it (checked already)."""

    case_id: int
    answer: str
    removed_at: datetime | None = None
    hosted_by: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Recorded:
    """What the answers did: the responses kept, per outcome."""

    responses: list[ProviderResponse]
    reported: int = 0  # removals waiting for an analyst to verify
    closed: int = 0  # removals the case closed on (a trusted provider)
    declined: int = 0  # cases sent back to be routed again
    noted: int = 0  # answers that changed nothing but the history


def record_answers(
    session: Session,
    letter: OpenLetter,
    answers: Sequence[Answer],
    *,
    now: datetime,
    timings: Timings,
) -> Recorded:
    """Keep ``answers`` (each for a case of ``letter``) and act on each.

    Raises ValueError for an answer about a case the letter does not cover
    (the page's form never sends one; a forged request gets nothing done).
    """
    by_id = {case.id: case for case in letter.cases}
    stray = [a.case_id for a in answers if a.case_id not in by_id]
    if stray:
        raise ValueError(f"cases not in this letter: {stray}")
    organisation = session.get(Organisation, letter.notice.recipient_id or 0)
    trusted = bool(organisation and organisation.trust_removal_reports)
    name = letter.notice.recipient_name
    counts = {"reported": 0, "closed": 0, "declined": 0, "noted": 0}
    kept: list[ProviderResponse] = []
    for answer in answers:
        case = by_id[answer.case_id]
        response = ProviderResponse(
            notice_id=letter.notice.id,
            case_id=case.id,
            organisation_name=name,
            answer=answer.answer,
            removed_at=(answer.removed_at or now) if answer.answer == REMOVED else None,
            hosted_by=answer.hosted_by if answer.answer == NOT_HOSTED else None,
            message=answer.message if answer.answer in (CANNOT_REMOVE, NEED_INFORMATION) else None,
            created_at=now,
        )
        session.add(response)
        session.flush()
        outcome = _act(session, case, response, letter.notice, trusted, now=now, timings=timings)
        counts[outcome] += 1
        kept.append(response)
        if answer.answer in (NOT_HOSTED, CANNOT_REMOVE):
            raise_alert(
                session,
                kind="provider_declined",
                key=f"provider-declined:{response.id}",
                message=_declined_message(case, response),
                now=now,
                case_id=case.id,
                notice_id=letter.notice.id,
            )
    if kept:
        notify_assignees(
            session,
            [r.case_id for r in kept],
            kind="provider_response",
            key=f"provider-response:{letter.notice.id}:{kept[0].id}",
            message=f"{name} answered letter {letter.notice.reference} about your case(s).",
            now=now,
            notice_id=letter.notice.id,
        )
        record(
            session,
            action="notice.response",
            now=now,
            target_type="notice",
            target_id=letter.notice.id,
            details={
                "reference": letter.notice.reference,
                "organisation": name,
                "answers": {str(r.case_id): r.answer for r in kept},
            },
        )
    session.flush()
    return Recorded(kept, **counts)


def _act(
    session: Session,
    case: Case,
    response: ProviderResponse,
    notice: Notice,
    trusted: bool,
    *,
    now: datetime,
    timings: Timings,
) -> str:
    """Take the workflow action an answer calls for; ``noted`` when there is none
    (the case has moved on, or the answer is a question)."""
    said = _said(response, notice)
    action: str | None = None
    fields: dict[str, Any] = {}
    if response.answer == REMOVED:
        removed_at = min(max(response.removed_at or now, case.received_at), now)
        fields = {"removed_at": removed_at.isoformat()}
        if trusted:
            action, outcome = Action.ACCEPT_REPORTED_REMOVAL, "closed"
        else:
            action, outcome = Action.REPORT_REMOVAL, "reported"
            fields["source"] = RemovalSource.PROVIDER.value
    elif response.answer in (NOT_HOSTED, CANNOT_REMOVE):
        action, outcome = Action.DECLINE_NOTICE, "declined"
        fields = {"answer": Attention(response.answer).value}
    if action is not None and action.value in cases.allowed_actions(case, SYSTEM_ACTOR):
        try:
            with session.begin_nested():
                cases.apply_action(
                    session,
                    case,
                    action,
                    fields,
                    actor=SYSTEM_ACTOR,
                    now=now,
                    timings=timings,
                    extra=said,
                )
            return outcome
        except WorkflowError:
            pass  # recorded below as what was said, changing nothing
    cases.record_event(session, case, RESPONSE_EVENT, actor=SYSTEM_ACTOR, now=now, fields=said)
    return "noted"


def _said(response: ProviderResponse, notice: Notice) -> dict[str, Any]:
    """What the case's history records of an answer: who said what, on which letter."""
    said: dict[str, Any] = {
        "by": response.organisation_name,
        "answer": response.answer,
        "notice": notice.reference,
        "response": response.id,
    }
    if response.removed_at is not None:
        said["reported_removed_at"] = response.removed_at.isoformat()
    if response.hosted_by:
        said["hosted_by"] = response.hosted_by
    if response.message:
        said["message"] = response.message
    return said


def _declined_message(case: Case, response: ProviderResponse) -> str:
    what = {
        NOT_HOSTED: "says it does not host",
        CANNOT_REMOVE: "says it cannot remove",
    }[response.answer]
    text = f"{response.organisation_name} {what} {case.url} ({case.reference})"
    if response.hosted_by:
        text += f"; hosted by: {response.hosted_by}"
    if response.message:
        text += f"; reason: {response.message[:300]}"
    return text + ". Route the case again."


def responses_of_case(session: Session, case_id: int) -> list[ProviderResponse]:
    """A case's provider answers, oldest first, with their letters (the case page)."""
    return list(
        session.scalars(
            select(ProviderResponse)
            .options(selectinload(ProviderResponse.notice))
            .where(ProviderResponse.case_id == case_id)
            .order_by(ProviderResponse.id)
        )
    )


def responses_for_cases(session: Session, case_ids: Sequence[int]) -> dict[int, list[dict]]:
    """Each case's provider answers, oldest first, as the API shows them."""
    found: dict[int, list[dict]] = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return found
    rows = session.scalars(
        select(ProviderResponse)
        .options(selectinload(ProviderResponse.notice))
        .where(ProviderResponse.case_id.in_(sorted(set(case_ids))))
        .order_by(ProviderResponse.case_id, ProviderResponse.id)
    )
    for row in rows:
        found[row.case_id].append(response_as_dict(row))
    return found


def response_as_dict(row: ProviderResponse) -> dict[str, Any]:
    return {
        "id": row.id,
        "notice": row.notice.reference,
        "organisation": row.organisation_name,
        "answer": row.answer,
        "removed_at": row.removed_at.isoformat() if row.removed_at else None,
        "hosted_by": row.hosted_by,
        "message": row.message,
        "created_at": row.created_at.isoformat(),
    }

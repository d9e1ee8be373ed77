"""Acting on a case: the one way a case changes state, and its history.

Functions take the session, the actor and ``now`` as arguments; they flush
but never commit: the caller (a view, a CLI command, a job) commits once, so a
failure leaves nothing half-written. Receiving reports is in receiving.py,
reading cases in queries.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from casemgr import events
from casemgr.audit.services import record
from casemgr.auth.models import User
from casemgr.cases import guards, workflow
from casemgr.cases.models import Case, CaseEvent
from casemgr.cases.states import Action
from casemgr.crypto import ContactCipher
from casemgr.database import is_valid_id
from casemgr.directory.models import Organisation
from casemgr.domain import Actor, CaseRef, OrganisationRef, Role, StaffRef
from casemgr.errors import PermissionDenied, StaleVersion, ValidationFailed
from casemgr.settings import ContactViewers, Timings


class DatabaseResolver:
    """Looks up what the workflow needs to check references."""

    def __init__(self, session: Session):
        self.session = session

    def staff(self, user_id: int) -> StaffRef | None:
        user = self.session.get(User, user_id) if is_valid_id(user_id) else None
        # A partner account is no member of staff: no case is ever assigned to one.
        if user is None or user.role == Role.PARTNER:
            return None
        return StaffRef(user.id, user.active, Role(user.role))

    def organisation(self, organisation_id: int) -> OrganisationRef | None:
        if not is_valid_id(organisation_id):
            return None
        organisation = self.session.get(Organisation, organisation_id)
        return organisation.ref if organisation and organisation.active else None

    def case(self, id_or_reference: int | str) -> CaseRef | None:
        """The case with this id, or with this reference (as stored: upper case)."""
        if isinstance(id_or_reference, str):
            found = self.session.scalar(select(Case.id).where(Case.reference == id_or_reference))
            return CaseRef(found) if found is not None else None
        if is_valid_id(id_or_reference) and self.session.get(Case, id_or_reference):
            return CaseRef(id_or_reference)
        return None


def allowed_actions(case: Case, actor: Actor) -> list[str]:
    return workflow.allowed_actions(case.facts, actor)


def apply_action(
    session: Session,
    case: Case,
    action: str,
    fields: Mapping[str, Any],
    *,
    actor: Actor,
    now: datetime,
    timings: Timings,
    expected_version: int | None = None,
    extra: Mapping[str, Any] | None = None,
    flush: bool = True,
) -> CaseEvent:
    """Take ``action`` on ``case`` and record it; the one way a case changes state.

    The workflow plans the transition (the new state, and what to write on the
    case: data, clocks, deadlines); here it is written, recorded and announced
    (``events.case_acted``).

    ``extra`` is recorded with the event beside the action's fields, unchecked
    (the notice run records the reference of the letter it sent). ``flush=False``
    leaves the flush to the caller: the notice run flushes a letter's cases at
    once (one flush instead of twenty halves its database work).

    Raises InvalidTransition, PermissionDenied, ValidationFailed (from the
    workflow) or StaleVersion when ``expected_version`` is given and the case
    has moved on since.
    """
    if expected_version is not None and expected_version != case.version:
        raise stale_version(session, case.id)
    transition = workflow.plan(
        action,
        case.facts,
        actor,
        fields,
        now=now,
        resolver=DatabaseResolver(session),
        timings=timings,
    )
    for name, value in transition.changes.items():
        setattr(case, name, value)
    case.status = transition.to_status
    case.updated_at = now
    event = CaseEvent(
        case=case,
        actor_id=actor.id,
        action=transition.action,
        from_status=transition.from_status,
        to_status=transition.to_status,
        fields=_jsonable({**transition.values, **(extra or {})}),
        created_at=now,
    )
    session.add(event)
    if flush:
        case_id = case.id  # after a failed flush the case cannot be read
        try:
            session.flush()
        except StaleDataError:
            # Another transaction changed the case between our read and our write
            # (the UPDATE's version check matched no row). The session must be
            # rolled back before it can say who: StaleVersion.described() does that.
            def describe() -> StaleVersion:
                session.rollback()
                return stale_version(session, case_id)

            raise StaleVersion(None, None, case_id=case_id, describe=describe) from None
    record(
        session,
        action="case.action",
        now=now,
        actor_id=actor.id,
        target_type="case",
        target_id=case.id,
        details={
            "reference": case.reference,
            "action": transition.action,
            "from": transition.from_status,
            "to": transition.to_status,
            "version": case.version,
            "fields": event.fields,
        },
    )
    events.case_acted.send(session, case=case, event=event, actor=actor, now=now)
    return event


def record_event(
    session: Session,
    case: Case,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    fields: Mapping[str, Any] | None = None,
) -> CaseEvent:
    """Record in the case's history something that did not change its state
    (a reminder or an escalation sent, a police hold due for review): from and
    to are both the current status. Workflow actions go through
    :func:`apply_action`, never here."""
    if action in {a.value for a in Action}:
        raise ValueError(f"{action!r} is a workflow action: use apply_action")
    event = CaseEvent(
        case=case,
        actor_id=actor.id,
        action=action,
        from_status=case.status,
        to_status=case.status,
        fields=_jsonable(fields or {}),
        created_at=now,
    )
    session.add(event)
    return event


def stale_version(session: Session, case_id: int) -> StaleVersion:
    """A StaleVersion naming the case's current version and who changed it last."""
    case = session.get(Case, case_id, populate_existing=True)
    last = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id.desc()).limit(1)
    )
    who = last.actor.name if last and last.actor else ("the system" if last else None)
    return StaleVersion(case.version if case else None, who, case_id=case_id)


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in values.items()
    }


# A sentence or two: it goes into the audit log with the viewing.
MAX_CONTACT_REASON_LENGTH = 300


def contact_refusal(case: Case, actor: Actor, viewers: ContactViewers) -> str | None:
    """None when ``actor`` may reveal the reporter's contact through ``case``, else
    why not. ``viewers`` is CONTACT_VIEWERS; the rule is :func:`guards.contact_refusal`,
    and the case page offers the button only where this answers None."""
    return guards.contact_refusal(case.facts, actor, viewers)


def reveal_contact(
    session: Session,
    case: Case,
    *,
    reason: str,
    viewers: ContactViewers,
    cipher: ContactCipher,
    actor: Actor,
    now: datetime,
) -> str | None:
    """The reporter's contact details in clear, for the case's need-to-know: the
    viewing is audited with its ``reason``.

    Raises PermissionDenied (nothing audited) when ``actor`` may not see them
    (:func:`contact_refusal`), ValidationFailed naming ``reason`` when it is
    blank or too long. None when there are none (never given, or purged by the
    retention job); nothing is then shown, so nothing is audited.
    """
    if refusal := contact_refusal(case, actor, viewers):
        raise PermissionDenied(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["is required: say why you need the contact"]})
    if len(reason) > MAX_CONTACT_REASON_LENGTH:
        raise ValidationFailed(
            {"reason": [f"must be at most {MAX_CONTACT_REASON_LENGTH} characters"]}
        )
    if not reason.isprintable():
        raise ValidationFailed({"reason": ["must be one line of text"]})
    submission = case.submission
    if submission.reporter_contact is None:
        return None
    record(
        session,
        action="contact.view",
        now=now,
        actor_id=actor.id,
        target_type="submission",
        target_id=submission.id,
        details={"submission": submission.reference, "case": case.reference, "reason": reason},
    )
    session.flush()
    return cipher.decrypt(submission.reporter_contact)

"""Use cases of the case workflow: receiving reports and acting on cases.

Functions take the session, the acting user (or the system actor) and ``now``
as arguments; they flush but never commit: the caller (a view, a CLI command,
a job) commits once, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from casemgr.audit.services import record
from casemgr.auth.models import User
from casemgr.cases import workflow
from casemgr.cases.models import Case, CaseEvent, ReferenceCounter, Submission
from casemgr.cases.workflow import (
    Action,
    Actor,
    CaseRef,
    OrganisationRef,
    Role,
    StaffRef,
    Status,
    Transition,
)
from casemgr.crypto import ContactCipher
from casemgr.directory.models import Organisation
from casemgr.errors import NotFound, StaleVersion, ValidationFailed
from casemgr.intake.urls import host_of
from casemgr.outbox.hooks import after_case_action
from casemgr.settings import Timings

SOURCES = ("public", "partner", "police", "phone", "email", "staff")
MAX_DESCRIPTION_LENGTH = 5000
MAX_EXTERNAL_REFERENCE_LENGTH = 120
MAX_CONTACT_LENGTH = 500


# --- references


def next_number(session: Session, counter: str) -> int:
    """The next value of a named counter, safe across processes.

    The UPDATE takes a row lock on PostgreSQL (a write lock on SQLite), so two
    processes never get the same number; the row is created on first use.
    """
    statement = (
        update(ReferenceCounter)
        .where(ReferenceCounter.name == counter)
        .values(value=ReferenceCounter.value + 1)
        .returning(ReferenceCounter.value)
    )
    value = session.execute(statement).scalar()
    if value is None:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:  # pragma: no cover - only the two supported backends
            dialect_insert = insert
        session.execute(
            dialect_insert(ReferenceCounter)
            .values(name=counter, value=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        value = session.execute(statement).scalar_one()
    return value


def case_reference(session: Session, prefix: str, now: datetime) -> str:
    return f"{prefix}-{now.year}-{next_number(session, f'case-{now.year}'):06d}"


def submission_reference(session: Session, prefix: str, now: datetime) -> str:
    return f"{prefix}-S-{now.year}-{next_number(session, f'submission-{now.year}'):06d}"


def url_hash(normalised_url: str) -> str:
    return hashlib.sha256(normalised_url.encode("utf-8")).hexdigest()


# --- receiving reports


@dataclass
class ReportInput:
    """A report as any way in hands it over, URLs already normalised."""

    urls: Sequence[str]
    source: str
    description: str = ""
    seen_where: str | None = None
    external_reference: str | None = None
    reporter_contact: str | None = None
    feedback_requested: bool = False

    def validate(self, max_urls: int) -> None:
        errors: dict[str, list[str]] = {}
        if not self.urls:
            errors["urls"] = ["at least one URL is required"]
        elif len(self.urls) > max_urls:
            errors["urls"] = [f"at most {max_urls} URLs can be reported at once"]
        if self.source not in SOURCES:
            errors["source"] = [f"must be one of: {', '.join(SOURCES)}"]
        for name, value, limit in (
            ("description", self.description, MAX_DESCRIPTION_LENGTH),
            ("external_reference", self.external_reference, MAX_EXTERNAL_REFERENCE_LENGTH),
            ("reporter_contact", self.reporter_contact, MAX_CONTACT_LENGTH),
        ):
            if value and len(value) > limit:
                errors[name] = [f"must be at most {limit} characters"]
            elif value and any(ord(ch) < 32 and ch not in "\r\n\t" for ch in value):
                errors[name] = ["must not contain control characters"]
        if errors:
            raise ValidationFailed(errors)


@dataclass
class ReceiveResult:
    submission: Submission
    created: bool  # False: an idempotent retry returned the earlier submission


def receive_report(
    session: Session,
    report: ReportInput,
    *,
    now: datetime,
    timings: Timings,
    cipher: ContactCipher,
    reference_prefix: str,
    max_urls: int = 50,
    submitted_by: User | None = None,
) -> ReceiveResult:
    """Record a report: one submission, one case per distinct URL.

    A URL that has an open case already becomes a case closed as its
    duplicate. A repeated ``external_reference`` from the same submitter
    returns the first submission unchanged.
    """
    report.validate(max_urls)
    if report.external_reference and submitted_by is not None:
        earlier = session.scalar(
            select(Submission).where(
                Submission.submitted_by_id == submitted_by.id,
                Submission.external_reference == report.external_reference,
            )
        )
        if earlier is not None:
            return ReceiveResult(earlier, created=False)

    submission = Submission(
        reference=submission_reference(session, reference_prefix, now),
        source=report.source,
        received_at=now,
        description=(report.description or "").strip(),
        seen_where=report.seen_where,
        external_reference=report.external_reference or None,
        submitted_by=submitted_by,
        reporter_contact=cipher.encrypt(report.reporter_contact.strip())
        if report.reporter_contact and report.reporter_contact.strip()
        else None,
        feedback_requested=bool(report.feedback_requested and report.reporter_contact),
    )
    session.add(submission)
    for url in dict.fromkeys(report.urls):  # collapse repeats, keep order
        digest = url_hash(url)
        original = session.scalar(
            select(Case)
            .where(Case.url_hash == digest, Case.url == url, Case.status != Status.CLOSED)
            .order_by(Case.id)
            .limit(1)
        )
        status, resolution = workflow.initial_state(has_open_duplicate=original is not None)
        case = Case(
            reference=case_reference(session, reference_prefix, now),
            submission=submission,
            url=url,
            url_hash=digest,
            host=host_of(url),
            status=status,
            resolution=resolution,
            duplicate_of=original,
            received_at=now,
            assessment_due_at=now + timings.assessment_due,
            due_at=None if original else now + timings.assessment_due,
            closed_at=now if original else None,
            updated_at=now,
        )
        session.add(case)
        session.add(
            CaseEvent(
                case=case,
                actor_id=submitted_by.id if submitted_by else None,
                action="receive",
                from_status=None,
                to_status=status,
                fields={"source": report.source, "submission": submission.reference}
                | ({"duplicate_of": original.reference} if original else {}),
                created_at=now,
            )
        )
    session.flush()
    return ReceiveResult(submission, created=True)


# --- acting on a case


class DatabaseResolver:
    """Looks up what the workflow needs to check references."""

    def __init__(self, session: Session):
        self.session = session

    def staff(self, user_id: int) -> StaffRef | None:
        user = self.session.get(User, user_id)
        return StaffRef(user.id, user.active, Role(user.role)) if user else None

    def organisation(self, organisation_id: int) -> OrganisationRef | None:
        organisation = self.session.get(Organisation, organisation_id)
        return organisation.ref if organisation and organisation.active else None

    def case(self, case_id: int) -> CaseRef | None:
        return CaseRef(case_id) if self.session.get(Case, case_id) else None


def get_case(session: Session, case_id: int) -> Case:
    """The case with ``case_id``; raises NotFound."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case with id {case_id}")
    return case


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
) -> CaseEvent:
    """Take ``action`` on ``case`` and record it; the one way a case changes state.

    ``extra`` is recorded with the event beside the action's fields, unchecked
    (the notice run records the reference of the letter it sent).

    Raises InvalidTransition, PermissionDenied, ValidationFailed (from the
    workflow) or StaleVersion when ``expected_version`` is given and the case
    has moved on since.
    """
    if expected_version is not None and expected_version != case.version:
        last = session.scalar(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.id.desc())
            .limit(1)
        )
        who = last.actor.name if last and last.actor else ("the system" if last else None)
        raise StaleVersion(case.version, who)
    transition = workflow.plan(
        action, case.facts, actor, fields, now=now, resolver=DatabaseResolver(session)
    )
    _record_effects(case, transition, now, timings)
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
    session.flush()
    after_case_action(session, case, event, actor=actor, now=now)
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


def _record_effects(case: Case, transition: Transition, now: datetime, timings: Timings) -> None:
    """What each action writes on the case besides its state: the data and the clocks."""
    values = transition.values
    match transition.action:
        case Action.ASSIGN:
            case.assignee_id = values["assignee_id"]
            case.assigned_at = now
        case Action.ASSESS:
            case.classification = values["classification"]
            for name in ("media_type", "site_type", "hosting_country", "age_group", "hosting_ip"):
                setattr(case, name, values.get(name))
            case.assessed_at = now
            case.due_at = None
        case Action.MARK_DUPLICATE:
            case.duplicate_of_id = values["duplicate_of"]
        case Action.REQUEST_NOTICE:
            case.provider_id = values["provider_id"]
            case.notice_requested_at = now
            case.due_at = None
            case.next_reminder_at = None
        case Action.FORWARD_TO_PARTNER:
            case.partner_id = values["partner_id"]
            case.forwarded_at = now
            _chase(case, now + timings.forwarded_reminder)
        case Action.REFER_TO_POLICE:
            case.police_id = values["police_id"]
            case.referred_at = now
            case.police_hold = values.get("hold", False)
            if case.police_hold:
                case.hold_since = now
                case.due_at = None
                case.next_reminder_at = now + timings.police_hold_review
                case.reminder_count = 0
            else:
                _chase(case, now + timings.takedown_due_for(case.hosting_country))
        case Action.RELEASE_HOLD:
            case.police_hold = False
            case.hold_since = None
            _chase(case, now + timings.takedown_due_for(case.hosting_country))
        case Action.CONFIRM_TAKEDOWN:
            case.removed_at = values["removed_at"]
        case Action.REOPEN:
            case.resolution = None
            case.closed_at = None
            case.removed_at = None
            case.due_at = now + timings.assessment_due
        case Action.SEND_NOTICE:
            case.notice_sent_at = now
            _chase(case, now + timings.takedown_due_for(case.hosting_country))

    if transition.action in _FIRST_ACTIONS and case.first_action_at is None:
        case.first_action_at = now
    if transition.to_status == Status.CLOSED:
        case.resolution = transition.resolution
        case.closed_at = now
        case.due_at = None
        case.next_reminder_at = None


_FIRST_ACTIONS = {Action.REQUEST_NOTICE, Action.FORWARD_TO_PARTNER, Action.REFER_TO_POLICE}


def _chase(case: Case, due: datetime) -> None:
    """Start the removal clock: due then, first reminder then."""
    case.due_at = due
    case.next_reminder_at = due
    case.reminder_count = 0


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in values.items()
    }


# --- reading cases


MAX_QUERY_LENGTH = 2048


@dataclass
class QueueFilter:
    view: str = "all"  # one of QUEUE_VIEWS
    status: str | None = None
    classification: str | None = None
    hosting_country: str | None = None
    assignee_id: int | None = None
    q: str | None = None

    def __post_init__(self) -> None:
        # Search text comes straight from a URL: no control characters (PostgreSQL
        # refuses NUL), no more than a URL's worth.
        text = "".join(ch for ch in (self.q or "") if ch.isprintable()).strip()
        self.q = text[:MAX_QUERY_LENGTH] or None


QUEUE_VIEWS = ("open", "mine", "unassigned", "overdue", "all")


@dataclass
class Page:
    items: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def queue(
    session: Session,
    filters: QueueFilter,
    *,
    user_id: int,
    now: datetime,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """A page of cases, newest first, with what the queue screen shows loaded."""
    statement = select(Case)
    if filters.view == "open":
        statement = statement.where(Case.status != Status.CLOSED)
    elif filters.view == "mine":
        statement = statement.where(Case.assignee_id == user_id, Case.status != Status.CLOSED)
    elif filters.view == "unassigned":
        statement = statement.where(Case.assignee_id.is_(None), Case.status != Status.CLOSED)
    elif filters.view == "overdue":
        statement = statement.where(Case.status != Status.CLOSED, Case.due_at < now)
    if filters.status:
        statement = statement.where(Case.status == filters.status)
    if filters.classification:
        statement = statement.where(Case.classification == filters.classification)
    if filters.hosting_country:
        statement = statement.where(Case.hosting_country == filters.hosting_country)
    if filters.assignee_id is not None:
        statement = statement.where(Case.assignee_id == filters.assignee_id)
    if filters.q:
        statement = statement.where(_search_condition(filters.q))

    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = session.scalars(
        statement.options(selectinload(Case.assignee))
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), total, page, per_page)


def _search_condition(q: str):
    """A reference, a submission reference, a full URL, or a host name."""
    from casemgr.intake.urls import InvalidURL, normalise_url

    text = q.strip()
    upper = text.upper()
    conditions = [Case.reference == upper]
    if "-S-" in upper:
        conditions.append(
            Case.submission_id.in_(select(Submission.id).where(Submission.reference == upper))
        )
    try:
        normalised = normalise_url(text)
    except InvalidURL:
        pass
    else:
        conditions.append(Case.url_hash == url_hash(normalised))
        if "/" not in text.split("://", 1)[-1].rstrip("/"):
            # A bare host name ("example.com"): every case on that host.
            conditions.append(Case.host == host_of(normalised))
    return or_(*conditions)


def case_for_page(session: Session, case_id: int) -> Case:
    """The case with its history and related records loaded in a few queries."""
    case = session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .options(
            selectinload(Case.events).selectinload(CaseEvent.actor),
            selectinload(Case.submission),
            selectinload(Case.assignee),
            selectinload(Case.duplicate_of),
            selectinload(Case.provider),
            selectinload(Case.partner),
            selectinload(Case.police),
        )
    )
    if case is None:
        raise NotFound(f"no case with id {case_id}")
    return case


def case_id_for(session: Session, id_or_reference: str) -> int | str:
    """A case id from what a person typed: an id or a case reference.

    Returns the text unchanged when it names no case, so that the workflow
    reports it as it reports any bad id.
    """
    text = id_or_reference.strip()
    if text.isdigit():
        return int(text)
    found = session.scalar(select(Case.id).where(Case.reference == text.upper()))
    return found if found is not None else text


def reveal_contact(
    session: Session,
    submission: Submission,
    *,
    cipher: ContactCipher,
    actor_id: int,
    now: datetime,
) -> str | None:
    """The reporter's contact details in clear; the viewing is audited."""
    if submission.reporter_contact is None:
        return None
    record(
        session,
        action="contact.view",
        now=now,
        actor_id=actor_id,
        target_type="submission",
        target_id=submission.id,
        details={"submission": submission.reference},
    )
    session.flush()
    return cipher.decrypt(submission.reporter_contact)


def duplicates_of(session: Session, case: Case) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.duplicate_of_id == case.id)).all())

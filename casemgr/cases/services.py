"""Use cases of the case workflow: receiving reports and acting on cases.

Functions take the session, the acting user (or the system actor) and ``now``
as arguments; they flush but never commit: the caller (a view, a CLI command,
a job) commits once, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, insert, literal, or_, select, text, update
from sqlalchemy import case as sa_case
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from casemgr import events
from casemgr.audit.services import record
from casemgr.auth.models import User
from casemgr.cases import workflow
from casemgr.cases.models import Case, CaseEvent, ReferenceCounter, Submission
from casemgr.cases.workflow import Action, Status, Transition
from casemgr.crypto import ContactCipher
from casemgr.database import estimated_rows, is_valid_id
from casemgr.directory.models import Organisation
from casemgr.domain import Actor, CaseRef, OrganisationRef, Role, StaffRef
from casemgr.errors import NotFound, StaleVersion, ValidationFailed
from casemgr.intake.urls import host_of
from casemgr.paging import Page
from casemgr.settings import Timings

SOURCES = ("public", "partner", "police", "phone", "email", "staff")
# What a client of the API may say a report came from: "public" is the public
# form's alone (it promises the reporter no IP address or user agent is kept).
API_SOURCES = tuple(source for source in SOURCES if source != "public")
# Where the reporter saw the URL (optional): what the public form and the API offer.
SEEN_WHERE = ("website", "social_media", "chat_app", "file_sharing", "other")
MAX_DESCRIPTION_LENGTH = 5000
MAX_EXTERNAL_REFERENCE_LENGTH = 120
MAX_CONTACT_LENGTH = 500


# --- references


def next_number(session: Session, counter: str) -> int:
    """The next value of a named counter, safe across processes."""
    return reserve_numbers(session, {counter: 1})[counter]


def reserve_numbers(session: Session, amounts: Mapping[str, int]) -> dict[str, int]:
    """Advance each named counter by its amount in one statement; return the new values.

    The new value is the last number reserved: advancing ``case-2026`` by 3
    to 45 reserves 43, 44 and 45. The UPDATE takes row locks on PostgreSQL
    (a write lock on SQLite), so two processes never get the same number; it
    locks the rows in the order of their primary key, so two reservations of
    the same counters cannot deadlock. Rows are created on first use. Core,
    not the ORM: this runs for every report received.
    """
    names = sorted(amounts)
    statement = (
        update(ReferenceCounter)
        .where(ReferenceCounter.name.in_(names))
        .values(
            value=ReferenceCounter.value
            + sa_case({name: amounts[name] for name in names}, value=ReferenceCounter.name)
        )
        .returning(ReferenceCounter.name, ReferenceCounter.value)
    )
    connection = session.connection()
    values: dict[str, int] = {name: value for name, value in connection.execute(statement)}
    missing = [name for name in names if name not in values]
    if missing:
        dialect = connection.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:  # pragma: no cover - only the two supported backends
            dialect_insert = insert
        connection.execute(
            dialect_insert(ReferenceCounter)
            .values([{"name": name, "value": 0} for name in missing])
            .on_conflict_do_nothing(index_elements=["name"])
        )
        more = connection.execute(statement.where(ReferenceCounter.name.in_(missing)))
        values.update((name, value) for name, value in more)
    return values


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
    # The language the report was made in (the public form's page, or a
    # partner's word for it): one of ``languages``, or None when not known.
    language: str | None = None

    def validate(self, max_urls: int, *, languages: Collection[str] = ()) -> None:
        """Raises ValidationFailed naming each bad field; ``language`` must be
        one of ``languages`` (the configured LANGUAGES) when given."""
        errors: dict[str, list[str]] = {}
        if not self.urls:
            errors["urls"] = ["at least one URL is required"]
        elif len(self.urls) > max_urls:
            errors["urls"] = [f"at most {max_urls} URLs can be reported at once"]
        if self.source not in SOURCES:
            errors["source"] = [f"must be one of: {', '.join(SOURCES)}"]
        if self.seen_where is not None and self.seen_where not in SEEN_WHERE:
            errors["seen_where"] = [f"must be one of: {', '.join(SEEN_WHERE)}"]
        if self.language is not None and self.language not in languages:
            errors["language"] = [f"must be one of: {', '.join(languages)}"]
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
    languages: Collection[str] = (),
    submitted_by: User | None = None,
) -> ReceiveResult:
    """Record a report: one submission, one case per distinct URL.

    A URL that has an open case already becomes a case closed as its
    duplicate. A repeated ``external_reference`` from the same submitter
    returns the first submission unchanged. A ``language`` must be one of
    ``languages``.
    """
    report.validate(max_urls, languages=languages)
    if report.external_reference and submitted_by is not None:
        earlier = session.scalar(
            select(Submission).where(
                Submission.submitted_by_id == submitted_by.id,
                Submission.external_reference == report.external_reference,
            )
        )
        if earlier is not None:
            return ReceiveResult(earlier, created=False)

    urls = list(dict.fromkeys(report.urls))  # collapse repeats, keep order
    digests = [url_hash(url) for url in urls]
    # One look-up for every URL: the oldest open case of each, if any.
    originals: dict[str, Any] = {}
    for row in session.connection().execute(
        select(Case.id, Case.reference, Case.url)
        .where(Case.url_hash.in_(set(digests)), Case.status != Status.CLOSED)
        .order_by(Case.id)
    ):
        originals.setdefault(row.url, row)
    year = now.year
    numbers = reserve_numbers(session, {f"submission-{year}": 1, f"case-{year}": len(urls)})
    first_case_number = numbers[f"case-{year}"] - len(urls) + 1

    # Three INSERTs whatever the number of URLs, through Core: this runs for
    # every report, and the ORM's unit of work costs more than the SQL does.
    (submission,) = _insert_persistent(
        session,
        Submission,
        [
            {
                "reference": f"{reference_prefix}-S-{year}-{numbers[f'submission-{year}']:06d}",
                "source": report.source,
                "received_at": now,
                "description": (report.description or "").strip(),
                "seen_where": report.seen_where,
                "external_reference": report.external_reference or None,
                "submitted_by_id": submitted_by.id if submitted_by else None,
                "reporter_contact": cipher.encrypt(report.reporter_contact.strip())
                if report.reporter_contact and report.reporter_contact.strip()
                else None,
                "feedback_requested": bool(report.feedback_requested and report.reporter_contact),
                "contact_purged_at": None,
                "language": report.language,
            }
        ],
    )
    rows = []
    for number, (url, digest) in enumerate(zip(urls, digests, strict=True), first_case_number):
        original = originals.get(url)
        status, resolution = workflow.initial_state(has_open_duplicate=original is not None)
        rows.append(
            {
                "reference": f"{reference_prefix}-{year}-{number:06d}",
                "submission_id": submission.id,
                "url": url,
                "url_hash": digest,
                "host": host_of(url),
                "status": status.value,
                "resolution": resolution.value if resolution else None,
                "duplicate_of_id": original.id if original else None,
                "police_hold": False,
                "received_at": now,
                "assessment_due_at": now + timings.assessment_due,
                "due_at": None if original else now + timings.assessment_due,
                "closed_at": now if original else None,
                "reminder_count": 0,
                "updated_at": now,
                "version": 1,
            }
        )
    created = _insert_persistent(session, Case, rows)
    session.connection().execute(
        insert(CaseEvent.__table__),
        [
            {
                "case_id": case.id,
                "actor_id": submitted_by.id if submitted_by else None,
                "action": "receive",
                "from_status": None,
                "to_status": case.status,
                "fields": {"source": report.source, "submission": submission.reference}
                | (
                    {"duplicate_of": originals[case.url].reference} if case.url in originals else {}
                ),
                "created_at": now,
            }
            for case in created
        ],
    )
    set_committed_value(submission, "cases", created)
    return ReceiveResult(submission, created=True)


def _insert_persistent(session: Session, model: type, rows: list[dict[str, Any]]) -> list:
    """INSERT ``rows`` with Core and return them as persistent ORM objects.

    Each row must hold every column but the id. The objects are built from
    the rows and the returned ids and put in the session as if just loaded,
    so nothing is inserted twice and reading them costs no query.
    """
    table = model.__table__
    ids = session.connection().execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    objects = []
    for row, (new_id,) in zip(rows, ids, strict=True):
        instance = model(id=new_id, **row)
        make_transient_to_detached(instance)
        session.add(instance)
        objects.append(instance)
    return objects


# --- acting on a case


class DatabaseResolver:
    """Looks up what the workflow needs to check references."""

    def __init__(self, session: Session):
        self.session = session

    def staff(self, user_id: int) -> StaffRef | None:
        user = self.session.get(User, user_id) if is_valid_id(user_id) else None
        return StaffRef(user.id, user.active, Role(user.role)) if user else None

    def organisation(self, organisation_id: int) -> OrganisationRef | None:
        if not is_valid_id(organisation_id):
            return None
        organisation = self.session.get(Organisation, organisation_id)
        return organisation.ref if organisation and organisation.active else None

    def case(self, case_id: int) -> CaseRef | None:
        return (
            CaseRef(case_id) if is_valid_id(case_id) and self.session.get(Case, case_id) else None
        )


def get_case(session: Session, case_id: int) -> Case:
    """The case with ``case_id``; raises NotFound."""
    case = session.get(Case, case_id) if is_valid_id(case_id) else None
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
    flush: bool = True,
) -> CaseEvent:
    """Take ``action`` on ``case`` and record it; the one way a case changes state.

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
        action, case.facts, actor, fields, now=now, resolver=DatabaseResolver(session)
    )
    _record_effects(case, transition, actor, now, timings)
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


def _record_effects(
    case: Case, transition: Transition, actor: Actor, now: datetime, timings: Timings
) -> None:
    """What each action writes on the case besides its state: the data, who, and the clocks."""
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
            case.assessed_by_id = actor.id
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


# Counting every case a list holds means reading an index entry for each: a
# few milliseconds for ten thousand, a tenth of a second for a million. Lists
# are counted up to this many; a longer list gets the database's estimate
# (PostgreSQL; SQLite counts on, see _count). The open cases are always
# counted exactly: their number is the backlog, which grows with the work at
# hand, not with the years of history.
EXACT_COUNT_LIMIT = 10_000


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
    conditions = _queue_conditions(filters, user_id=user_id, now=now)
    backlog = filters.view == "open" and not (
        filters.status
        or filters.classification
        or filters.hosting_country
        or filters.assignee_id is not None
        or filters.q
    )
    total, estimated = _count(session, conditions, backlog=backlog)
    items = session.scalars(
        select(Case)
        .where(*conditions)
        .options(selectinload(Case.assignee))
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), total, page, per_page, total_is_estimate=estimated)


def _queue_conditions(
    filters: QueueFilter, *, user_id: int, now: datetime
) -> list[ColumnElement[bool]]:
    """The WHERE of a queue page.

    Every view but "all" holds open cases only. A chosen state says it alone:
    "status = 'notice_sent'" already excludes closed cases, and adding
    "status <> 'closed'" would make PostgreSQL's planner take the two for
    independent filters, expect a tenth of the rows, and pick a plan that
    reads every open case instead of the (status, received_at, id) index.
    """
    open_only = filters.view != "all"
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        if open_only and filters.status == Status.CLOSED:
            conditions.append(false())
        conditions.append(Case.status == filters.status)
    elif open_only:
        conditions.append(Case.status != Status.CLOSED)
    if filters.view == "mine":
        conditions.append(Case.assignee_id == user_id)
    elif filters.view == "unassigned":
        conditions.append(Case.assignee_id.is_(None))
    elif filters.view == "overdue":
        conditions.append(Case.due_at < now)
    if filters.classification:
        conditions.append(Case.classification == filters.classification)
    if filters.hosting_country:
        conditions.append(Case.hosting_country == filters.hosting_country)
    if filters.assignee_id is not None:
        conditions.append(Case.assignee_id == filters.assignee_id)
    if filters.q:
        conditions.append(_search_condition(filters.q))
    return conditions


# The open cases counted over a partial index that holds them alone. SQLite's
# planner, without statistics (a database nobody has run ANALYZE on), prefers
# reading the whole (status, received_at, id) index: ten times the work.
_COUNT_OPEN_SQLITE = text(
    "SELECT count(*) FROM cases INDEXED BY ix_cases_open_due WHERE status <> 'closed'"
)


def _count(
    session: Session, conditions: list[ColumnElement[bool]], *, backlog: bool
) -> tuple[int, bool]:
    """How many cases match: (count, is it an estimate).

    ``backlog``: the conditions are the open view's alone, every open case.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    if backlog:  # counted exactly, over a partial index
        if sqlite:
            return session.scalar(_COUNT_OPEN_SQLITE) or 0, False
        return session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0, False
    first = (
        select(literal(1)).select_from(Case).where(*conditions).limit(EXACT_COUNT_LIMIT + 1)
    ).subquery()
    counted = session.scalar(select(func.count()).select_from(first)) or 0
    if counted <= EXACT_COUNT_LIMIT:
        return counted, False
    estimate = estimated_rows(session, select(Case.id).where(*conditions))
    if estimate is None:
        # SQLite cannot estimate. Its count of a whole table walks the b-tree
        # pages (milliseconds for a million rows), and it is the database of
        # smaller installations: count exactly.
        return session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0, False
    return max(estimate, counted), True


# What a case or submission reference looks like: PREFIX-2026-000042, PREFIX-S-2026-000007.
_REFERENCE_SHAPE = re.compile(r".+-\d{4}-\d+")


def _search_condition(q: str) -> ColumnElement[bool]:
    """A reference, a submission reference, a full URL, or a host name.

    Only the conditions that can match are asked for: the text is compared
    with references only when it has their shape, and a bare host name asks
    for the host alone (the cases of its root URL are on that host too). One
    indexable condition, rather than an OR of several, lets the database
    count a big host's cases in its index and read its newest ones in order.
    """
    from casemgr.intake.urls import InvalidURL, normalise_url

    text = q.strip()
    upper = text.upper()
    conditions: list[ColumnElement[bool]] = []
    if _REFERENCE_SHAPE.fullmatch(upper):
        conditions.append(Case.reference == upper)
        if "-S-" in upper:
            conditions.append(
                Case.submission_id.in_(select(Submission.id).where(Submission.reference == upper))
            )
    try:
        normalised = normalise_url(text)
    except InvalidURL:
        pass
    else:
        if "/" not in text.split("://", 1)[-1].rstrip("/"):
            # A bare host name ("example.com"): every case on that host.
            conditions.append(Case.host == host_of(normalised))
        else:
            conditions.append(Case.url_hash == url_hash(normalised))
    return or_(*conditions) if conditions else false()


def case_for_page(session: Session, case_id: int) -> Case:
    """The case with its history and related records loaded in a few queries; raises NotFound."""
    if not is_valid_id(case_id):
        raise NotFound(f"no case with id {case_id}")
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
    case_reference: str | None = None,
) -> str | None:
    """The reporter's contact details in clear; the viewing is audited.

    None when there are none (never given, or purged by the retention job);
    nothing is then shown, so nothing is audited.
    """
    if submission.reporter_contact is None:
        return None
    details = {"submission": submission.reference}
    if case_reference:
        details["case"] = case_reference
    record(
        session,
        action="contact.view",
        now=now,
        actor_id=actor_id,
        target_type="submission",
        target_id=submission.id,
        details=details,
    )
    session.flush()
    return cipher.decrypt(submission.reporter_contact)


def duplicates_of(session: Session, case: Case) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.duplicate_of_id == case.id)).all())

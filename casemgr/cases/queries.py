"""Reading cases: the queue's pages and counts, search, one case for its page.

Queries apart from operations (services.py changes a case, receiving.py
creates them): nothing here writes. The queue runs on every page view of the
busiest screen, so its counting and search conditions are written with the
database's indexes in mind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, false, func, literal, or_, select, text
from sqlalchemy.orm import Session, joinedload, selectinload

from casemgr.cases import queue_order
from casemgr.cases.models import Case, CaseEvent, CaseNote, Submission
from casemgr.cases.queue_order import NEWEST_FIRST, QueueSort
from casemgr.cases.receiving import url_hash
from casemgr.cases.states import Status
from casemgr.database import estimated_rows, is_valid_id
from casemgr.errors import NotFound
from casemgr.intake.urls import InvalidURL, host_of, normalise_url
from casemgr.paging import Page
from casemgr.partners import queries as partner_queries

MAX_QUERY_LENGTH = 2048


@dataclass
class QueueFilter:
    view: str = "all"  # one of QUEUE_VIEWS
    status: str | None = None
    classification: str | None = None
    hosting_country: str | None = None
    assignee_id: int | None = None
    q: str | None = None
    host: str | None = None  # the cases of one host (a group of the grouped queue, opened)
    submission_id: int | None = None  # the cases of one submission
    overdue: bool = False  # only the overdue cases of the view (the API's overdue=true)

    def __post_init__(self) -> None:
        # Search text comes straight from a URL (casemgr.inputs has refused
        # control characters): no more than a URL's worth.
        text = (self.q or "").strip()
        self.q = text[:MAX_QUERY_LENGTH] or None


# removal_reported: a provider or the removal check says the material is gone;
# an analyst verifies (confirm_takedown) by the case's deadline.
# partner_removed: forwarded over a partner's API, the partner says removed;
# partner_silent: forwarded, no news from the partner for PARTNER_NO_NEWS_DAYS.
QUEUE_VIEWS = (
    "open",
    "mine",
    "unassigned",
    "overdue",
    "removal_reported",
    "partner_removed",
    "partner_silent",
    "all",
)

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
    sort: QueueSort = NEWEST_FIRST,
) -> Page:
    """A page of cases in ``sort``'s order, with what the queue screen shows loaded."""
    conditions = queue_conditions(filters, user_id=user_id, now=now)
    backlog = filters.view == "open" and not (
        filters.status
        or filters.classification
        or filters.hosting_country
        or filters.assignee_id is not None
        or filters.q
        or filters.host
        or filters.submission_id is not None
    )
    total, estimated = _count(session, conditions, backlog=backlog)
    statement = queue_order.ordered_page(
        conditions,
        sort,
        states_of(filters),
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    items = session.scalars(statement).all()
    return Page(list(items), total, page, per_page, total_is_estimate=estimated)


def submissions_of(session: Session, submission_ids: set[int]) -> dict[int, tuple[str, int]]:
    """Each submission's reference and how many cases (URLs) it holds."""
    if not submission_ids:
        return {}
    rows = session.execute(
        select(Submission.id, Submission.reference, func.count(Case.id))
        .join(Case, Case.submission_id == Submission.id)
        .where(Submission.id.in_(submission_ids))
        .group_by(Submission.id, Submission.reference)
    ).all()
    return {submission_id: (reference, count) for submission_id, reference, count in rows}


def matching_ids(
    session: Session,
    filters: QueueFilter,
    *,
    user_id: int,
    now: datetime,
    limit: int,
) -> list[int]:
    """The ids of the cases the queue shows for ``filters``, newest first, at most ``limit``.

    A bulk action on "every case matching this filter" asks for one more than
    it may take, to tell a selection that is too big from one that fits.
    """
    conditions = queue_conditions(filters, user_id=user_id, now=now)
    return list(
        session.scalars(
            select(Case.id)
            .where(*conditions)
            .order_by(Case.received_at.desc(), Case.id.desc())
            .limit(limit)
        ).all()
    )


@dataclass(frozen=True)
class Neighbours:
    previous_id: int | None
    next_id: int | None


def neighbours(
    session: Session,
    case: Case,
    filters: QueueFilter,
    sort: QueueSort,
    *,
    user_id: int,
    now: datetime,
) -> Neighbours:
    """The cases before and after ``case`` in the queue of ``filters`` in ``sort``'s order.

    ``case`` need not be in that queue any more (taking a case moves it out
    of "Unassigned"): its neighbours are the cases around the place it would
    have. Two statements that read one row each through the order's index.
    """
    conditions = queue_conditions(filters, user_id=user_id, now=now)
    if sort.key == "state":
        states = states_of(filters)
        return Neighbours(
            *(
                queue_order.next_id_by_state(
                    session, conditions, sort, states, case, backwards=backwards
                )
                for backwards in (True, False)
            )
        )
    columns = queue_order.terms(sort)
    return Neighbours(
        *(
            queue_order.next_id(session, conditions, columns, case, backwards=backwards)
            for backwards in (True, False)
        )
    )


def states_of(filters: QueueFilter) -> list[Status]:
    """The states a queue of ``filters`` can hold."""
    if filters.status:
        states = [Status(filters.status)] if filters.status in set(Status) else []
    else:
        states = list(Status)
    return states if filters.view == "all" else [s for s in states if s != Status.CLOSED]


def queue_conditions(
    filters: QueueFilter, *, user_id: int, now: datetime
) -> list[ColumnElement[bool]]:
    """The WHERE of a queue page.

    Every view but "all" holds open cases only. A chosen state says it alone:
    "status = 'notice_sent'" already excludes closed cases, and adding
    "status <> 'closed'" would make PostgreSQL's planner take the two for
    independent filters, expect a tenth of the rows, and pick a plan that
    reads every open case instead of the (status, received_at, id) index.
    """
    open_only = filters.view != "all" or filters.overdue
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
    elif filters.view == "removal_reported":
        conditions.append(Case.removal_reported_at.is_not(None))
    elif filters.view == "partner_removed":
        conditions.append(partner_queries.partner_says_removed())
    elif filters.view == "partner_silent":
        days = current_app.config.get("PARTNER_NO_NEWS_DAYS", 7) if has_app_context() else 7
        conditions.append(partner_queries.no_news_since(now - timedelta(days=int(days))))
    if filters.overdue and filters.view != "overdue":
        conditions.append(Case.due_at < now)
    if filters.classification:
        conditions.append(Case.classification == filters.classification)
    if filters.hosting_country:
        conditions.append(Case.hosting_country == filters.hosting_country)
    if filters.assignee_id is not None:
        conditions.append(Case.assignee_id == filters.assignee_id)
    if filters.q:
        conditions.append(_search_condition(filters.q))
    if filters.host:
        conditions.append(Case.host == filters.host)
    if filters.submission_id is not None:
        conditions.append(Case.submission_id == filters.submission_id)
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


# What a case's page and its API representation show besides the case itself:
# the records a case points at joined to it (one row each: no statement of
# their own), its events and notes in one statement each, with their authors.
_PAGE_OPTIONS = (
    selectinload(Case.events).joinedload(CaseEvent.actor),
    selectinload(Case.notes).joinedload(CaseNote.author),
    joinedload(Case.submission),
    joinedload(Case.assignee),
    joinedload(Case.duplicate_of),
    joinedload(Case.provider),
    joinedload(Case.partner),
    joinedload(Case.police),
)


def case_for_page(session: Session, case_id: int) -> Case:
    """The case with its history and related records loaded in a few queries; raises NotFound."""
    if not is_valid_id(case_id):
        raise NotFound(f"no case with id {case_id}")
    case = session.scalar(select(Case).where(Case.id == case_id).options(*_PAGE_OPTIONS))
    if case is None:
        raise NotFound(f"no case with id {case_id}")
    return case


def cases_for_page(session: Session, case_ids: Sequence[int]) -> dict[int, Case]:
    """Those of the cases ``case_ids`` that exist, by id, loaded as :func:`case_for_page`
    loads one: the same few queries for any number of cases."""
    wanted = [case_id for case_id in case_ids if is_valid_id(case_id)]
    if not wanted:
        return {}
    found = session.scalars(select(Case).where(Case.id.in_(wanted)).options(*_PAGE_OPTIONS))
    return {case.id: case for case in found}


def duplicates_of(session: Session, case: Case) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.duplicate_of_id == case.id)).all())

"""The queue grouped: one row per host (a site reported 40 times is one row) or
per submission (the URLs one report listed).

A group row says how many of the queue's cases it holds, when the oldest of
them was received and the earliest deadline among them (the most overdue).
One statement reads a page of groups, the number of groups and the number
of cases in them: the counts are window functions over the grouped rows.
For the open views the partial index ``ix_cases_open_groups`` holds every
column the grouping and the usual filters read, so PostgreSQL aggregates
the open cases from the index alone (bench/README.md, "Queue grouped").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casemgr.cases import queries
from casemgr.cases.models import Case, Submission
from casemgr.cases.queue_order import QueueSort
from casemgr.paging import Page

GROUPS = ("host", "submission")
# The columns groups sort by: how many cases, the oldest received, the
# earliest deadline, the host. Groups that tie come in the order of their key.
GROUP_SORT_KEYS = ("count", "received", "due", "host")


def default_group_sort(view: str) -> QueueSort:
    """The biggest groups first; in the overdue view, the most overdue first."""
    return QueueSort("due", False) if view == "overdue" else QueueSort("count", True)


@dataclass(frozen=True)
class CaseGroup:
    key: str  # the host, or the submission's id
    label: str  # the host, or the submission's reference
    host: str  # the host (a submission's: the first of its hosts in alphabetical order)
    count: int
    oldest_received_at: datetime
    earliest_due_at: datetime | None

    def is_overdue(self, now: datetime) -> bool:
        return self.earliest_due_at is not None and self.earliest_due_at < now


@dataclass(frozen=True)
class GroupPage:
    groups: Page[CaseGroup]  # its total: the number of groups
    cases: int  # the cases in all the groups together


def grouped(
    session: Session,
    filters: queries.QueueFilter,
    group: str,
    *,
    user_id: int,
    now: datetime,
    sort: QueueSort,
    page: int = 1,
    per_page: int = 50,
) -> GroupPage:
    """A page of the groups of the queue of ``filters``, in ``sort``'s order."""
    if group not in GROUPS:
        raise ValueError(f"no grouping by {group!r}")
    if sort.key not in GROUP_SORT_KEYS:
        raise ValueError(f"groups have no order by {sort.key!r}")
    conditions = _conditions(filters, user_id=user_id, now=now)
    key = Case.host if group == "host" else Case.submission_id
    host = Case.host if group == "host" else func.min(Case.host)
    count = func.count()
    columns: dict[str, Any] = {
        "count": count,
        "received": func.min(Case.received_at),
        "due": func.min(Case.due_at),
        "host": host,
    }
    primary = columns[sort.key]
    ordered = primary.desc() if sort.descending else primary.asc()
    if sort.key == "due":
        ordered = ordered.nulls_last()
    rows = session.execute(
        select(
            key,
            host,
            count,
            func.min(Case.received_at),
            func.min(Case.due_at),
            func.count().over(),
            func.sum(func.count()).over(),
        )
        .where(*conditions)
        .group_by(key)
        .order_by(ordered, key)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    if rows:
        total_groups, total_cases = int(rows[0][5]), int(rows[0][6])
    else:  # a page past the end: the totals still count
        total_groups, total_cases = session.execute(
            select(func.count(func.distinct(key)), func.count()).where(*conditions)
        ).one()
    labels = _submission_references(session, [row[0] for row in rows]) if group != "host" else {}
    groups = [
        CaseGroup(
            key=str(row[0]),
            label=row[0] if group == "host" else labels.get(row[0], str(row[0])),
            host=row[1],
            count=row[2],
            oldest_received_at=row[3],
            earliest_due_at=row[4],
        )
        for row in rows
    ]
    return GroupPage(Page(groups, total_groups, page, per_page), total_cases)


def _conditions(filters: queries.QueueFilter, *, user_id: int, now: datetime) -> list[Any]:
    """The queue's conditions, the overdue view's deadline written for grouping.

    Grouped, the overdue view reads most open cases (85,000 of 100,000 at a
    million). PostgreSQL takes "open" and "due_at < now" for independent
    (they are not: a closed case has no deadline), expects a tenth of that,
    and reads them through ix_cases_open_due and the table (0.2-0.6 s). The
    same test written so that no index ranges over it is checked inside
    ix_cases_open_groups, read alone (about 30 ms).
    """
    if filters.view != "overdue":
        return queries.queue_conditions(filters, user_id=user_id, now=now)
    opened = queries.queue_conditions(replace(filters, view="open"), user_id=user_id, now=now)
    return [*opened, func.coalesce(Case.due_at, now) < now]


def _submission_references(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    found = session.execute(
        select(Submission.id, Submission.reference).where(Submission.id.in_(ids))
    ).all()
    return dict(found)

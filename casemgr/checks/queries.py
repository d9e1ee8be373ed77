"""What the removal check reads: the cases due for a check, and cases' latest checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casemgr.cases.models import Case
from casemgr.cases.states import AWAITING_REMOVAL
from casemgr.checks.models import UrlCheck


@dataclass(frozen=True)
class Due:
    case_id: int
    url: str
    host: str


def due_for_check(
    session: Session, now: datetime, *, interval: timedelta, per_host: int, limit: int
) -> tuple[list[Due], int]:
    """The cases to check in a run, and how many were due in all.

    Due: waiting for removal (notice sent, forwarded, with police without a
    police hold), no removal reported yet, not checked since ``now - interval``. Never-checked cases
    come first, then the longest unchecked; at most ``per_host`` of each host,
    ``limit`` in all. The rest are due again at the next run.
    """
    last = (
        select(func.max(UrlCheck.checked_at))
        .where(UrlCheck.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    due = (
        select(Case.id, Case.url, Case.host, last.label("last_checked"))
        .where(
            Case.status.in_([status.value for status in AWAITING_REMOVAL]),
            Case.removal_reported_at.is_(None),
            # Police asked to hold the takedown while they investigate: a request
            # from the hotline's address could tip the site off. Never checked.
            Case.police_hold.is_(False),
        )
        .subquery()
    )
    waiting = (
        select(due)
        .where(or_(due.c.last_checked.is_(None), due.c.last_checked <= now - interval))
        .subquery()
    )
    order = (waiting.c.last_checked.asc().nulls_first(), waiting.c.id)
    ranked = select(
        waiting,
        func.row_number().over(partition_by=waiting.c.host, order_by=order).label("rank"),
        func.count().over().label("total"),
    ).subquery()
    rows = session.execute(
        select(ranked.c.id, ranked.c.url, ranked.c.host, ranked.c.total)
        .where(ranked.c.rank <= per_host)
        .order_by(ranked.c.last_checked.asc().nulls_first(), ranked.c.id)
        .limit(limit)
    ).all()
    total = rows[0].total if rows else 0
    return [Due(row.id, row.url, row.host) for row in rows], total


def recent_checks(
    session: Session, case_ids: Sequence[int], *, limit: int
) -> dict[int, list[UrlCheck]]:
    """The latest ``limit`` checks of each case, newest first, in one query."""
    found: dict[int, list[UrlCheck]] = {case_id: [] for case_id in case_ids}
    if not found or limit < 1:
        return found
    rank = (
        func.row_number()
        .over(
            partition_by=UrlCheck.case_id,
            order_by=(UrlCheck.checked_at.desc(), UrlCheck.id.desc()),
        )
        .label("rank")
    )
    ranked = select(UrlCheck.id, rank).where(UrlCheck.case_id.in_(list(found))).subquery()
    checks = session.scalars(
        select(UrlCheck)
        .join(ranked, ranked.c.id == UrlCheck.id)
        .where(ranked.c.rank <= limit)
        .order_by(UrlCheck.case_id, UrlCheck.checked_at.desc(), UrlCheck.id.desc())
    )
    for check in checks:
        found[check.case_id].append(check)
    return found


def latest_for_case(session: Session, case_id: int, *, limit: int = 5) -> list[UrlCheck]:
    """A case's latest checks, newest first (the case page)."""
    return list(
        session.scalars(
            select(UrlCheck)
            .where(UrlCheck.case_id == case_id)
            .order_by(UrlCheck.checked_at.desc(), UrlCheck.id.desc())
            .limit(limit)
        )
    )

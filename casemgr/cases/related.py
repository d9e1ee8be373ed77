"""The cases next to a case, for its page: the other URLs of the same report,
and the other open cases on the same host.

Reads only. Each list is a few rows and a count, in two indexed queries
(cases by submission; cases by host, ``ix_cases_host_received``), however
many cases the report or the host has: a host's open cases are counted up
to :data:`COUNT_LIMIT` and said to be "more than" beyond.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from casemgr.cases.models import Case
from casemgr.cases.states import Status

SIBLINGS_SHOWN = 10
SAME_HOST_SHOWN = 5
COUNT_LIMIT = 1000


@dataclass(frozen=True)
class Related:
    shown: list[Case] = field(default_factory=list)
    total: int = 0
    # True when there are more than ``total`` (counting stopped at COUNT_LIMIT).
    more_than: bool = False

    @property
    def hidden(self) -> int:
        return self.total - len(self.shown)


def same_submission(session: Session, case: Case, *, shown: int = SIBLINGS_SHOWN) -> Related:
    """The other cases of ``case``'s submission, in the order they were reported."""
    others = (Case.submission_id == case.submission_id, Case.id != case.id)
    rows = session.scalars(select(Case).where(*others).order_by(Case.id).limit(shown)).all()
    if len(rows) < shown:
        return Related(list(rows), len(rows))
    total = session.scalar(select(func.count()).select_from(Case).where(*others)) or 0
    return Related(list(rows), total)


def open_on_same_host(session: Session, case: Case, *, shown: int = SAME_HOST_SHOWN) -> Related:
    """The other open cases on ``case``'s host, newest first."""
    others = (Case.host == case.host, Case.status != Status.CLOSED, Case.id != case.id)
    rows = session.scalars(
        select(Case).where(*others).order_by(Case.received_at.desc(), Case.id.desc()).limit(shown)
    ).all()
    if len(rows) < shown:
        return Related(list(rows), len(rows))
    first = select(literal(1)).select_from(Case).where(*others).limit(COUNT_LIMIT + 1).subquery()
    counted = session.scalar(select(func.count()).select_from(first)) or 0
    return Related(list(rows), min(counted, COUNT_LIMIT), more_than=counted > COUNT_LIMIT)

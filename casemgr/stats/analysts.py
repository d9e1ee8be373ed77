"""The per-analyst table: cases assessed and the median time to assessment, per assessor.

Internal figures (the dashboard, and the PDF or CLI only when asked): kept
apart from the published figures so that what is computed for whom is
plain. ``compute_figures(..., include_analysts=True)`` fills it in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.auth.models import User
from casemgr.cases.models import Case
from casemgr.stats.cohorts import Cohorts
from casemgr.stats.sql import percentiles, seconds_between


@dataclass(frozen=True)
class AnalystFigures:
    user_id: int | None
    name: str
    assessed: int
    median_seconds: float | None


def per_analyst(session: Session, cohorts: Cohorts) -> list[AnalystFigures]:
    """Cases of the received cohort assessed (their current assessment) and the
    median time to it, per assessor; the most assessments first."""
    query = select(
        Case.assessed_by_id.label("g"),
        seconds_between(Case.assessed_at, Case.received_at).label("assessment"),
    ).where(*cohorts.received_only, Case.assessed_at.is_not(None))
    found = percentiles(session, query, ["assessment"], grouped=True)
    ids = [user_id for user_id in found if user_id is not None]
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    out = [
        AnalystFigures(
            user_id,
            names.get(user_id, "former staff"),
            summary["assessment"].count,
            summary["assessment"].median,
        )
        for user_id, summary in found.items()
    ]
    return sorted(out, key=lambda a: (-a.assessed, a.name.lower(), a.user_id or 0))

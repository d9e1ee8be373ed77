"""Reading the stored monthly reports back: the list, and one month's PDF.

Queries only; storing a report (the monthly job, or a supervisor by hand) and
auditing its download are in :mod:`casemgr.stats.operations`.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, undefer

from casemgr.errors import NotFound
from casemgr.stats.models import MonthlyReport

_MONTH_NAME = re.compile(r"\d{4}-\d{2}")


def list_reports(session: Session) -> list[MonthlyReport]:
    """Every stored report, the newest month first, without the PDFs."""
    return list(
        session.scalars(
            select(MonthlyReport)
            .options(selectinload(MonthlyReport.created_by))
            .order_by(MonthlyReport.month.desc())
        ).all()
    )


def get_report(session: Session, month_name: str) -> MonthlyReport:
    """The stored report of the month ``YYYY-MM``, PDF included; NotFound otherwise."""
    month = _first_day(month_name)
    report = (
        None
        if month is None
        else session.scalar(
            select(MonthlyReport)
            .options(undefer(MonthlyReport.pdf))
            .where(MonthlyReport.month == month)
        )
    )
    if report is None:
        raise NotFound(f"No report of {month_name} is stored.")
    return report


def _first_day(month_name: str) -> date | None:
    """``2026-10`` -> 2026-10-01; None for anything else."""
    if not _MONTH_NAME.fullmatch(month_name):
        return None
    try:
        return date.fromisoformat(f"{month_name}-01")
    except ValueError:
        return None

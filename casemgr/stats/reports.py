"""Stored monthly reports: the publishable statistics PDF of each calendar month.

The ``monthly_report`` job (``casemgr.jobs.monthly_report``) stores the
report of the month just ended; supervisors find every stored report under
*Statistics*, download it byte for byte, and may make the report of a past
month (again) by hand. A stored report never holds the per-analyst figures:
it is the one to publish.

One report per month: ``store_monthly_report`` makes a month's report only
when none is stored (or when asked to replace it), so the job may run any
number of times. Two processes storing the same month at the same moment
both find none and both make the PDF; the unique month lets one insert
through, and the other, inside a savepoint, finds the winner's report and
answers "already stored" (nothing half-written, no error).

Functions take the session and ``now``; they flush but never commit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, undefer

from casemgr.audit.services import record
from casemgr.auth.models import User
from casemgr.database import savepoint
from casemgr.errors import NotFound, ValidationFailed
from casemgr.pdf.letterhead import Letterhead
from casemgr.stats import pdf
from casemgr.stats.models import MonthlyReport
from casemgr.stats.services import Period, compute_figures, parse_month

STORED = "stored"
REPLACED = "replaced"
ALREADY_STORED = "already stored"

_MONTH_NAME = re.compile(r"\d{4}-\d{2}")


@dataclass(frozen=True)
class StoreResult:
    """The month's stored report, and whether this call made it (``stored``,
    ``replaced``) or found it there (``already stored``)."""

    report: MonthlyReport
    outcome: str

    @property
    def made(self) -> bool:
        return self.outcome != ALREADY_STORED


def previous_month(now: datetime) -> Period:
    """The last calendar month that is over at ``now`` (UTC)."""
    year, month = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
    return Period.month(year, month)


def parse_past_month(raw: str | None, *, now: datetime, name: str = "month") -> Period:
    """The month named ``YYYY-MM``, which must be over at ``now``: a stored report
    is of a whole month. Raises ValidationFailed keyed by ``name``."""
    period = parse_month(raw, today=now.date(), name=name)
    if period.end_at > now:
        raise ValidationFailed(
            {
                name: [
                    f"{period.start:%Y-%m} is not over yet: a stored report is of a whole "
                    "month (the dashboard makes the PDF of the month so far)"
                ]
            }
        )
    return period


def store_monthly_report(
    session: Session,
    period: Period,
    *,
    now: datetime,
    actor: User | None = None,
    letterhead: Letterhead,
    replace: bool = False,
) -> StoreResult:
    """Make and store the report of the month ``period`` as of ``now``, unless one
    is stored already (then return it untouched), or replace the stored one when
    ``replace``. ``actor`` None is the scheduler. Audited when a report is made.
    """
    if not period.is_month or period.end_at > now:
        raise ValueError(f"{period.label} is not a calendar month that is over at {now}")
    stored = _stored(session, period.start)
    if stored is not None and not replace:
        return StoreResult(stored, ALREADY_STORED)
    data = _render(session, period, now=now, letterhead=letterhead)
    actor_id = actor.id if actor is not None else None
    if stored is not None:
        previous_sha256 = stored.sha256
        _fill(stored, data, now=now, actor_id=actor_id)
        session.flush()
        _audit(session, "stats.report_replaced", stored, now, actor_id, previous_sha256)
        return StoreResult(stored, REPLACED)
    report = MonthlyReport(month=period.start)
    _fill(report, data, now=now, actor_id=actor_id)
    try:
        with savepoint(session):
            session.add(report)
            session.flush()
    except IntegrityError:
        # Another process stored this month since we looked: theirs stands.
        winner = _stored(session, period.start)
        if winner is None:  # the IntegrityError was about something else
            raise
        return StoreResult(winner, ALREADY_STORED)
    _audit(session, "stats.report_stored", report, now, actor_id)
    return StoreResult(report, STORED)


def _stored(session: Session, month: date) -> MonthlyReport | None:
    return session.scalar(select(MonthlyReport).where(MonthlyReport.month == month))


def _render(session: Session, period: Period, *, now: datetime, letterhead: Letterhead) -> bytes:
    figures = compute_figures(session, period, now=now, include_analysts=False)
    return pdf.monthly_report(figures, letterhead=letterhead)


def _fill(report: MonthlyReport, data: bytes, *, now: datetime, actor_id: int | None) -> None:
    report.pdf = data
    report.sha256 = hashlib.sha256(data).hexdigest()
    report.size = len(data)
    report.as_of = now
    report.created_at = now
    report.created_by_id = actor_id


def _audit(
    session: Session,
    action: str,
    report: MonthlyReport,
    now: datetime,
    actor_id: int | None,
    previous_sha256: str | None = None,
) -> None:
    details: dict[str, Any] = {
        "month": f"{report.month:%Y-%m}",
        "sha256": report.sha256,
        "size": report.size,
        "as_of": report.as_of.isoformat(),
    }
    if previous_sha256 is not None:
        details["previous_sha256"] = previous_sha256
    record(
        session,
        action=action,
        now=now,
        actor_id=actor_id,
        target_type="monthly_report",
        target_id=report.id,
        details=details,
    )


# --- reading them back


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


def record_download(session: Session, report: MonthlyReport, *, actor: User, now: datetime) -> None:
    """Write who downloaded a stored report to the audit log (before it goes out)."""
    period = Period.month(report.month.year, report.month.month)
    record(
        session,
        action="stats.stored_report_download",
        now=now,
        actor_id=actor.id,
        target_type="monthly_report",
        target_id=report.id,
        details={
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "month": f"{report.month:%Y-%m}",
            "sha256": report.sha256,
        },
    )
    session.flush()

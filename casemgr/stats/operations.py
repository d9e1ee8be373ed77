"""What statistics change: audit entries for every export and download, and stored reports.

Kept apart from the queries (:mod:`casemgr.stats.figures`,
:mod:`casemgr.stats.exports`, :mod:`casemgr.stats.stored_reports`): each
function here writes, takes the ``actor`` (``SYSTEM_ACTOR`` for the scheduler
and the command line) and ``now``, flushes and never commits.

Stored monthly reports: the ``monthly_report`` job
(``casemgr.jobs.monthly_report``) stores the publishable report of the month
just ended; supervisors may make the report of a past month (again) by hand.
A stored report never holds the per-analyst figures: it is the one to
publish. One report per month: ``store_monthly_report`` makes a month's
report only when none is stored (or when asked to replace it), so the job may
run any number of times. Two processes storing the same month at the same
moment both find none and both make the PDF; the unique month lets one insert
through, and the other, inside a savepoint, finds the winner's report and
answers "already stored" (nothing half-written, no error).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casemgr.audit import checkpoints
from casemgr.audit.services import record
from casemgr.database import savepoint
from casemgr.domain import Actor, Role
from casemgr.pdf.letterhead import Letterhead
from casemgr.stats import exports, pdf
from casemgr.stats.figures import Figures, compute_figures
from casemgr.stats.models import MonthlyReport
from casemgr.stats.selection import Period, StatsFilter

# --- audited exports


def record_export(
    session: Session,
    action: str,
    period: Period,
    filters: StatsFilter,
    *,
    actor: Actor,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write who exported what (``stats.export_figures``, ``stats.report``...) to
    the audit log."""
    record(
        session,
        action=action,
        now=now,
        actor_id=actor.id,
        details={
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "hosting_country": filters.hosting_country,
            "provider_id": filters.provider_id,
            **(extra or {}),
        },
    )
    session.flush()


def export_cases_csv(
    session: Session,
    period: Period,
    filters: StatsFilter,
    *,
    actor: Actor,
    now: datetime,
    include_urls: bool,
    timezone: tzinfo = UTC,
    language: str = "en",
) -> Iterator[str]:
    """Record the export in the audit log, and return the CSV, a chunk per row
    (its label columns' country names in ``language``).

    URLs (with host and hosting IP) only when ``include_urls`` and the actor
    is a supervisor. The caller commits (the audit entry) before sending the
    rows.
    """
    include_urls = include_urls and actor.has(Role.SUPERVISOR)
    total = exports.count_cases(session, period, filters)
    record_export(
        session,
        "stats.export_cases",
        period,
        filters,
        actor=actor,
        now=now,
        extra={"include_urls": include_urls, "rows": total},
    )
    return exports.cases_csv(
        session,
        period,
        filters,
        include_urls=include_urls,
        now=now,
        timezone=timezone,
        language=language,
    )


def export_monthly_report(
    session: Session,
    period: Period,
    *,
    actor: Actor,
    now: datetime,
    letterhead: Letterhead,
    include_analysts: bool,
    extra: dict[str, Any] | None = None,
    timezone: tzinfo = UTC,
) -> tuple[Figures, bytes]:
    """Make the report of ``period`` as of ``now`` (with the per-analyst table when
    ``include_analysts``), record the export in the audit log, and return the
    figures and the PDF. Nothing is stored: that is :func:`store_monthly_report`.
    """
    figures, data = _render(
        session,
        period,
        now=now,
        letterhead=letterhead,
        include_analysts=include_analysts,
        timezone=timezone,
    )
    record_export(
        session,
        "stats.report",
        period,
        StatsFilter(),
        actor=actor,
        now=now,
        extra={"per_analyst": include_analysts, **(extra or {})},
    )
    return figures, data


# --- stored monthly reports

STORED = "stored"
REPLACED = "replaced"
ALREADY_STORED = "already stored"


@dataclass(frozen=True)
class StoreResult:
    """The month's stored report, and whether this call made it (``stored``,
    ``replaced``) or found it there (``already stored``)."""

    report: MonthlyReport
    outcome: str

    @property
    def made(self) -> bool:
        return self.outcome != ALREADY_STORED


def store_monthly_report(
    session: Session,
    period: Period,
    *,
    now: datetime,
    actor: Actor,
    letterhead: Letterhead,
    replace: bool = False,
    timezone: tzinfo = UTC,
) -> StoreResult:
    """Make and store the report of the month ``period`` as of ``now``, unless one
    is stored already (then return it untouched), or replace the stored one when
    ``replace``. Audited when a report is made.
    """
    if not period.is_month or period.end_at > now:
        raise ValueError(f"{period.label} is not a calendar month that is over at {now}")
    stored = _stored(session, period.start)
    if stored is not None and not replace:
        return StoreResult(stored, ALREADY_STORED)
    _, data = _render(
        session,
        period,
        now=now,
        letterhead=letterhead,
        include_analysts=False,
        timezone=timezone,
    )
    if stored is not None:
        previous_sha256 = stored.sha256
        _fill(stored, data, now=now, actor=actor)
        session.flush()
        _audit_report(session, "stats.report_replaced", stored, now, actor, previous_sha256)
        return StoreResult(stored, REPLACED)
    report = MonthlyReport(month=period.start)
    _fill(report, data, now=now, actor=actor)
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
    _audit_report(session, "stats.report_stored", report, now, actor)
    return StoreResult(report, STORED)


def _stored(session: Session, month: date) -> MonthlyReport | None:
    return session.scalar(select(MonthlyReport).where(MonthlyReport.month == month))


def _render(
    session: Session,
    period: Period,
    *,
    now: datetime,
    letterhead: Letterhead,
    include_analysts: bool,
    timezone: tzinfo,
) -> tuple[Figures, bytes]:
    figures = compute_figures(session, period, now=now, include_analysts=include_analysts)
    checkpoint = checkpoints.latest(session, until=now)
    return figures, pdf.monthly_report(
        figures,
        letterhead=letterhead,
        timezone=timezone,
        checkpoint=checkpoint.line if checkpoint is not None else None,
    )


def _fill(report: MonthlyReport, data: bytes, *, now: datetime, actor: Actor) -> None:
    report.pdf = data
    report.sha256 = hashlib.sha256(data).hexdigest()
    report.size = len(data)
    report.as_of = now
    report.created_at = now
    report.created_by_id = actor.id


def _audit_report(
    session: Session,
    action: str,
    report: MonthlyReport,
    now: datetime,
    actor: Actor,
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
        actor_id=actor.id,
        target_type="monthly_report",
        target_id=report.id,
        details=details,
    )


def record_download(
    session: Session, report: MonthlyReport, *, actor: Actor, now: datetime
) -> None:
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

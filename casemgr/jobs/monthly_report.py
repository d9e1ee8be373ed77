"""The monthly report run: store the statistics report of the month just ended.

``flask --app wsgi jobs run monthly_report [--now ISO]``; the scheduler runs
it every few hours. As of ``now``, the last calendar month that is over gets
its report made and stored if it has none; otherwise the run does nothing.
So it runs any number of times, on any number of servers, and stores each
month once (see :mod:`casemgr.stats.operations`). A month with no cases gets its
report too: it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from casemgr.domain import SYSTEM_ACTOR
from casemgr.jobs.base import JobSummary
from casemgr.notices.wording import letterhead_from_app
from casemgr.stats.operations import STORED, store_monthly_report
from casemgr.stats.selection import previous_month

NAME = "monthly_report"


@dataclass
class MonthlyReportSummary(JobSummary):
    month: str = ""  # 2026-11
    outcome: str = ""  # operations.STORED or operations.ALREADY_STORED
    sha256: str = ""
    size: int = 0

    def line(self) -> str:
        """``monthly_report as of ...: 2026-11 stored (41,234 bytes, SHA-256 1f2e...)``."""
        text = f"{self.job} as of {self.now.isoformat()}: {self.month} {self.outcome}"
        if self.outcome == STORED:
            text += f" ({self.size:,} bytes, SHA-256 {self.sha256[:16]})"
        return text

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "month": self.month,
            "outcome": self.outcome,
            "sha256": self.sha256,
            "size": self.size,
        }


def run(session: Session, now: datetime, app: Flask) -> MonthlyReportSummary:
    period = previous_month(now)
    result = store_monthly_report(
        session,
        period,
        now=now,
        actor=SYSTEM_ACTOR,
        letterhead=letterhead_from_app(app),
        timezone=app.extensions["casemgr.timezone"],
    )
    summary = MonthlyReportSummary(
        NAME,
        now,
        month=f"{period.start:%Y-%m}",
        outcome=result.outcome,
        sha256=result.report.sha256,
        size=result.report.size,
    )
    summary.counts[result.outcome.replace(" ", "_")] += 1
    return summary

"""The monthly_report job: last month's statistics report, stored once however
often (and on however many servers) it runs; its registry entry, schedule and
command line."""

from __future__ import annotations

import io
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from casemgr.jobs import cli as jobs_cli
from casemgr.jobs import monthly_report, scheduler
from casemgr.stats import operations
from casemgr.stats.models import MonthlyReport
from config import Config
from tests.conftest import NOW


def stored() -> list[MonthlyReport]:
    return list(db.session.scalars(select(MonthlyReport).order_by(MonthlyReport.month)))


def stored_audit() -> list[AuditEntry]:
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "stats.report_stored"))
    )


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_registered_and_scheduled_every_six_hours():
    assert jobs_cli.JOBS["monthly_report"] is monthly_report.run
    assert scheduler.intervals(Config.SCHEDULE)["monthly_report"] == timedelta(hours=6)


def test_stores_last_month_once_however_often_it_runs(app):
    first = monthly_report.run(db.session, NOW, app)
    db.session.commit()
    assert (first.month, first.outcome, first.counts["stored"]) == ("2026-10", "stored", 1)
    (report,) = stored()
    assert first.line() == (
        f"monthly_report as of 2026-11-28T09:00:00+00:00: 2026-10 stored "
        f"({report.size:,} bytes, SHA-256 {report.sha256[:16]})"
    )
    for hours in (0, 6, 12):
        again = monthly_report.run(db.session, NOW + timedelta(hours=hours), app)
        db.session.commit()
        assert again.outcome == "already stored" and again.counts["already_stored"] == 1
        assert again.line() == (
            f"monthly_report as of {(NOW + timedelta(hours=hours)).isoformat()}: "
            "2026-10 already stored"
        )
    assert [r.id for r in stored()] == [report.id] and report.as_of == NOW
    assert len(stored_audit()) == 1
    assert again.as_dict()["outcome"] == "already stored"


def test_a_new_month_brings_a_new_report(app):
    for moment in (
        NOW,
        datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 6, tzinfo=UTC),
    ):
        monthly_report.run(db.session, moment, app)
        db.session.commit()
    assert [f"{r.month:%Y-%m}" for r in stored()] == ["2026-10", "2026-11", "2026-12"]
    assert all(r.created_by_id is None for r in stored())


def test_flask_jobs_run_monthly_report_with_now(app, runner, make):
    case = make.case("notice_sent")  # received on 27 November
    provider = case.provider.name
    result = runner.invoke(args=["jobs", "run", "monthly_report", "--now", "2026-12-01T06:00Z"])
    assert result.exit_code == 0, result.output
    (report,) = stored()
    assert result.output.strip() == (
        f"monthly_report as of 2026-12-01T06:00:00+00:00: 2026-11 stored "
        f"({report.size:,} bytes, SHA-256 {report.sha256[:16]})"
    )
    assert report.month.isoformat() == "2026-11-01"
    assert report.as_of == datetime(2026, 12, 1, 6, tzinfo=UTC)
    text = pdf_text(report.pdf)
    assert "Statistics: November 2026" in text
    assert provider in text and "Cambodia" in text
    assert "not over yet" not in text
    again = runner.invoke(args=["jobs", "run", "monthly_report", "--now", "2026-12-01T12:00Z"])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == (
        "monthly_report as of 2026-12-01T12:00:00+00:00: 2026-11 already stored"
    )
    assert len(stored()) == 1


def test_the_scheduler_wrapper_commits_and_logs(app, caplog):
    with caplog.at_level(logging.INFO, logger="casemgr.jobs"):
        summary = scheduler.run_job(app, "monthly_report")
    assert summary.outcome == "stored"
    assert any(
        r.getMessage().startswith(
            "job monthly_report as of 2026-11-28T09:00:00+00:00: 2026-10 stored"
        )
        for r in caplog.records
    )
    db.session.remove()  # committed: another session sees it
    assert [f"{r.month:%Y-%m}" for r in stored()] == ["2026-10"]


def test_two_schedulers_at_once_store_one_report(app, monkeypatch):
    """Both look, find nothing and make the PDF (the barrier holds each until
    the other has looked too); the unique month lets one insert through and
    the other answers "already stored". Real threads, each with its own
    session and connection: on SQLite the second waits for the write lock."""
    barrier = threading.Barrier(2)
    render = operations._render

    def render_after_both_looked(*args, **kwargs):
        barrier.wait(timeout=20)
        return render(*args, **kwargs)

    monkeypatch.setattr(operations, "_render", render_after_both_looked)
    looks = []
    look = operations._stored

    def counted_look(*args, **kwargs):
        looks.append(1)
        return look(*args, **kwargs)

    monkeypatch.setattr(operations, "_stored", counted_look)
    summaries, errors = [], []

    def worker():
        try:
            summaries.append(scheduler.run_job(app, "monthly_report"))
        except Exception as exc:  # pragma: no cover - reported by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and None not in summaries, (errors, summaries)
    assert sorted(s.outcome for s in summaries) == ["already stored", "stored"]
    assert len({s.sha256 for s in summaries}) == 1  # the loser reports the winner's PDF
    assert len(looks) == 3  # one each, and the loser's after its insert was refused
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(MonthlyReport)) == 1
    assert len(stored_audit()) == 1


@pytest.mark.parametrize(
    ("now", "month"),
    [
        ("2026-12-01T06:00", "2026-11"),  # no offset: UTC
        ("2026-12-01T06:00+07:00", "2026-10"),  # 30 November 23:00 UTC: November is not over
    ],
)
def test_months_are_utc_months(app, runner, now, month):
    result = runner.invoke(args=["jobs", "run", "monthly_report", "--now", now])
    assert result.exit_code == 0, result.output
    assert f": {month} stored" in result.output

"""What statistics write (casemgr/stats/operations.py): stored monthly reports, made
once per month, replaced only on purpose, audited, and safe when two processes store
the same month; and the audit entries of exports."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

import pytest
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import func, select

from casemgr.audit.models import AuditEntry
from casemgr.domain import SYSTEM_ACTOR, Actor, Role
from casemgr.extensions import db
from casemgr.notices.wording import letterhead_from_app
from casemgr.stats import operations
from casemgr.stats.models import MonthlyReport
from casemgr.stats.selection import Period, StatsFilter
from casemgr.stats.stored_reports import get_report
from tests.conftest import NOW

OCTOBER = Period.month(2026, 10)


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def store(
    period: Period = OCTOBER, *, now: datetime = NOW, actor: Actor = SYSTEM_ACTOR, replace=False
):
    result = operations.store_monthly_report(
        db.session,
        period,
        now=now,
        actor=actor,
        letterhead=letterhead_from_app(current_app),
        replace=replace,
    )
    db.session.commit()
    return result


def report_audit() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["stats.report_stored", "stats.report_replaced"]))
            .order_by(AuditEntry.id)
        )
    )


def row_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MonthlyReport))


def test_stores_the_publishable_pdf_of_the_month(data, app):
    result = store()
    assert result.outcome == operations.STORED and result.made
    report = get_report(db.session, "2026-10")
    assert report.month.isoformat() == "2026-10-01"
    assert report.sha256 == hashlib.sha256(report.pdf).hexdigest()
    assert report.size == len(report.pdf)
    assert report.as_of == NOW and report.created_at == NOW
    assert report.created_by_id is None
    text = pdf_text(report.pdf)
    assert "Statistics: October 2026" in text
    assert app.config["HOTLINE_NAME"] in text
    assert "60% (3 of 5)" in text  # removed within 3 days of the notice
    assert "Per analyst" not in text and "Ana" not in text and "Bo " not in text


def test_storing_again_changes_nothing(data):
    first = store()
    sha256 = first.report.sha256
    again = store(now=NOW.replace(hour=15))
    assert again.outcome == operations.ALREADY_STORED and not again.made
    assert again.report.id == first.report.id
    assert again.report.sha256 == sha256 and again.report.as_of == NOW
    assert row_count() == 1
    assert [entry.action for entry in report_audit()] == ["stats.report_stored"]


def test_replace_makes_it_again_as_of_now_and_keeps_the_old_hash_in_the_audit(data, supervisor):
    first = store()
    old_sha256, old_size, report_id = first.report.sha256, first.report.size, first.report.id
    later = NOW.replace(hour=15)
    result = store(now=later, actor=supervisor.actor, replace=True)
    assert result.outcome == operations.REPLACED
    report = get_report(db.session, "2026-10")
    assert report.id == report_id and row_count() == 1
    assert report.as_of == later and report.created_by_id == supervisor.id
    assert report.sha256 == hashlib.sha256(report.pdf).hexdigest() != old_sha256
    stored, replaced = report_audit()
    assert (stored.actor_id, stored.target_type, stored.target_id) == (
        None,
        "monthly_report",
        str(report_id),
    )
    assert stored.details == {
        "month": "2026-10",
        "sha256": old_sha256,
        "size": old_size,
        "as_of": NOW.isoformat(),
    }
    assert replaced.action == "stats.report_replaced" and replaced.actor_id == supervisor.id
    assert replaced.details["previous_sha256"] == old_sha256
    assert replaced.details["sha256"] == report.sha256


def test_a_month_without_cases_gets_a_report_that_says_so(app):
    store(Period.month(2025, 1))
    text = pdf_text(get_report(db.session, "2025-01").pdf)
    assert "Statistics: January 2025" in text
    assert "No reports in this period" in text


def test_the_other_process_won_the_race(data, monkeypatch):
    """The month was stored by another process between this one's look and its
    insert: the unique month refuses the insert, the savepoint undoes it, and the
    other's report is the answer. The session is still good for more work."""
    winner = store()
    real_stored = operations._stored
    looks = []

    def stored_after_our_look(session, month):
        looks.append(month)
        return None if len(looks) == 1 else real_stored(session, month)

    monkeypatch.setattr(operations, "_stored", stored_after_our_look)
    result = operations.store_monthly_report(
        db.session,
        OCTOBER,
        now=NOW.replace(hour=15),
        actor=SYSTEM_ACTOR,
        letterhead=letterhead_from_app(current_app),
    )
    assert result.outcome == operations.ALREADY_STORED
    assert result.report.id == winner.report.id and result.report.as_of == NOW
    store(Period.month(2026, 9))  # the same transaction goes on, and commits
    assert row_count() == 2
    assert [entry.details["month"] for entry in report_audit()] == ["2026-10", "2026-09"]


def test_refuses_a_month_that_is_not_over(app):
    with pytest.raises(ValueError, match="not a calendar month that is over"):
        store(Period.month(2026, 11))
    with pytest.raises(ValueError, match="not a calendar month"):
        store(Period(OCTOBER.start, OCTOBER.start))
    assert row_count() == 0


# --- audited exports


def export_audit() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["stats.export_cases", "stats.report"]))
            .order_by(AuditEntry.id)
        )
    )


def test_cases_export_leaves_out_urls_unless_the_actor_is_a_supervisor(data):
    """The view lets only supervisors in; the operation does not rely on it."""
    analyst = Actor(id=data.ana.id, role=Role.ANALYST)
    rows = operations.export_cases_csv(
        db.session, OCTOBER, StatsFilter(), actor=analyst, now=NOW, include_urls=True
    )
    db.session.commit()  # the audit entry is written at commit
    text = "".join(rows)
    assert "url" not in text.splitlines()[0] and "c1.example.com" not in text
    (entry,) = export_audit()
    assert entry.actor_id == data.ana.id
    assert entry.details["include_urls"] is False and entry.details["rows"] == 10


def test_cases_export_is_recorded_before_a_row_is_read(data):
    rows = operations.export_cases_csv(
        db.session,
        OCTOBER,
        StatsFilter(hosting_country="KH"),
        actor=data.sam.actor,
        now=NOW,
        include_urls=True,
    )
    db.session.commit()  # as the view does: the audit entry, then the rows
    (entry,) = export_audit()
    assert entry.details == {
        "from": "2026-10-01",
        "to": "2026-10-31",
        "hosting_country": "KH",
        "provider_id": None,
        "include_urls": True,
        "rows": 3,
    }
    lines = "".join(rows).splitlines()
    assert ",time_zone,url,host,hosting_ip,source_label," in lines[0] and len(lines) == 1 + 3


def test_an_export_by_the_system_has_no_actor(app):
    operations.record_export(
        db.session, "stats.report", OCTOBER, StatsFilter(), actor=SYSTEM_ACTOR, now=NOW
    )
    db.session.commit()
    (entry,) = export_audit()
    assert entry.actor_id is None and entry.created_at == NOW


@pytest.mark.parametrize("include_analysts", [False, True])
def test_a_report_export_is_made_and_recorded_once_for_the_view_and_the_cli(data, include_analysts):
    figures, pdf = operations.export_monthly_report(
        db.session,
        OCTOBER,
        actor=data.sam.actor,
        now=NOW,
        letterhead=letterhead_from_app(current_app),
        include_analysts=include_analysts,
        extra={"via": "cli"},
    )
    db.session.commit()
    assert (figures.per_analyst is not None) is include_analysts
    assert ("Per analyst (internal)" in pdf_text(pdf)) is include_analysts
    (entry,) = export_audit()
    assert (entry.action, entry.actor_id) == ("stats.report", data.sam.id)
    assert entry.details["per_analyst"] is include_analysts and entry.details["via"] == "cli"
    assert row_count() == 0  # made, not stored

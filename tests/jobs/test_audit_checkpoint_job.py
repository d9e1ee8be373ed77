"""The audit_checkpoint job: the signed head of the audit log, stored, e-mailed
through the outbox and appended to a file; daily on the scheduler; carried by
every stored monthly report."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casemgr.audit import chain, checkpoints
from casemgr.audit.models import AuditCheckpoint, AuditEntry
from casemgr.extensions import db
from casemgr.jobs import audit_checkpoint, monthly_report, scheduler
from casemgr.jobs import cli as jobs_cli
from casemgr.outbox.models import OutboxMessage
from casemgr.stats.models import MonthlyReport
from config import Config
from tests.audit.helpers import write
from tests.conftest import NOW


def test_registered_and_scheduled_daily(app, clock):
    assert jobs_cli.JOBS["audit_checkpoint"] is audit_checkpoint.run
    assert scheduler.intervals(Config.SCHEDULE)["audit_checkpoint"] == timedelta(days=1)
    built = scheduler.build_scheduler(app, {"audit_checkpoint": timedelta(days=1)})
    try:
        built.start(paused=True)
        assert built.get_job("audit_checkpoint").next_run_time == clock.now()
    finally:
        built.shutdown(wait=False)


def test_with_neither_setting_it_stores_the_checkpoint_and_says_what_it_skipped(app, runner):
    write(3)
    result = runner.invoke(args=["jobs", "run", "audit_checkpoint"])
    assert result.exit_code == 0, result.output
    head = db.session.get(AuditEntry, 3)
    assert result.output.strip() == (
        f"audit_checkpoint as of {NOW.isoformat()}: entry 3 of 3 (hash {head.entry_hash[:16]}); "
        "e-mail skipped (AUDIT_CHECKPOINT_EMAIL is not set); "
        "file skipped (AUDIT_CHECKPOINT_FILE is not set); 0 failed"
    )
    (row,) = db.session.scalars(select(AuditCheckpoint)).all()
    assert (row.entry_id, row.entry_count, row.entry_hash) == (3, 3, head.entry_hash)
    parsed = checkpoints.parse(row.line)
    assert parsed.keyed_from == 1 and parsed.key_id == chain.current_keys().current_id
    assert parsed.installation == "example-hotline" and parsed.made_at == NOW
    assert checkpoints.signature_problem(parsed, chain.current_keys(), "example-hotline") is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.checkpoint"))
    assert entry.id == 4 and entry.target_id == str(row.id)
    assert entry.details["entry_id"] == 3 and entry.details["emailed_to"] is None
    assert db.session.scalar(select(OutboxMessage)) is None


def test_an_empty_log_gets_a_checkpoint_too(app):
    summary = audit_checkpoint.run(db.session, NOW, app)
    assert (summary.entry_id, summary.count, summary.entry_hash) == (0, 0, chain.GENESIS)
    assert checkpoints.parse(checkpoints.latest(db.session).line).keyed_from is None


class TestSettings:
    @pytest.fixture
    def app_config(self, tmp_path) -> dict:
        return {
            "AUDIT_CHECKPOINT_EMAIL": "auditor@oversight.example.org",
            "AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.txt"),
        }

    def test_queues_the_mail_and_appends_the_line(self, app, tmp_path):
        write(2)
        first = audit_checkpoint.run(db.session, NOW, app)
        second = audit_checkpoint.run(db.session, NOW + timedelta(days=1), app)
        assert first.failures == [] and second.failures == []
        assert first.emailed == "queued to auditor@oversight.example.org"
        lines = (tmp_path / "checkpoints.txt").read_text().splitlines()
        assert lines == [row.line for row in checkpoints.stored(db.session)]
        assert [checkpoints.parse(line).entry_id for line in lines] == [2, 3]
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.kind, m.recipient, m.status) for m in messages] == [
            ("audit_checkpoint", "auditor@oversight.example.org", "queued")
        ] * 2
        assert messages[0].reference == f"audit checkpoint {messages[0].checkpoint_id}"

    def test_a_checkpoint_file_that_cannot_be_written_fails_the_run(self, app, runner, tmp_path):
        app.config["AUDIT_CHECKPOINT_FILE"] = str(tmp_path / "no-such-folder" / "c.txt")
        result = runner.invoke(args=["jobs", "run", "audit_checkpoint"])
        assert result.exit_code == 1
        assert "file not written" in result.output
        assert "failed: AUDIT_CHECKPOINT_FILE" in result.output
        assert checkpoints.latest(db.session) is not None  # stored and mailed all the same

    def test_a_bad_address_fails_the_run(self, app, runner):
        app.config["AUDIT_CHECKPOINT_EMAIL"] = "not an address"
        result = runner.invoke(args=["jobs", "run", "audit_checkpoint"])
        assert result.exit_code == 1
        assert "AUDIT_CHECKPOINT_EMAIL 'not an address' is not an e-mail address" in result.output


def test_the_stored_monthly_report_carries_the_latest_checkpoint(app):
    write(2)
    audit_checkpoint.run(db.session, datetime(2026, 11, 27, 6, tzinfo=UTC), app)
    latest = audit_checkpoint.run(db.session, datetime(2026, 11, 28, 6, tzinfo=UTC), app)
    db.session.commit()
    monthly_report.run(db.session, NOW, app)
    db.session.commit()
    report = db.session.scalar(select(MonthlyReport))
    reader = PdfReader(io.BytesIO(report.pdf))
    line = checkpoints.latest(db.session).line
    assert reader.metadata["/Keywords"] == line
    assert f"entry={latest.entry_id}" in line
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert "".join(line.split()) in text

"""``flask jobs run NAME [--now ISO]``."""

from __future__ import annotations

from casemgr.extensions import db
from casemgr.jobs import cli as jobs_cli
from casemgr.notices.pdf.layout import render_letter
from tests.jobs.conftest import letters


def test_runs_a_job_and_prints_what_it_did(app, runner, make, queue):
    queue(make.organisation())
    result = runner.invoke(args=["jobs", "run", "notices", "--now", "2026-11-28T10:00Z"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "notices as of 2026-11-28T10:00:00+00:00: 1 letters (notice 1); 1 cases; 0 failed",
        "  notice: CM-N-2026-000001",
    ]
    (notice,) = letters()
    assert notice.created_at.isoformat() == "2026-11-28T10:00:00+00:00"
    again = runner.invoke(args=["jobs", "run", "notices", "--now", "2026-11-28T10:00Z"])
    assert again.output.startswith("notices as of 2026-11-28T10:00:00+00:00: 0 letters")


def test_without_now_it_runs_as_of_the_app_clock(app, runner):
    result = runner.invoke(args=["jobs", "run", "reminders"])
    assert result.exit_code == 0
    assert "reminders as of 2026-11-28T09:00:00+00:00" in result.output


def test_a_now_that_is_not_a_date_is_refused(app, runner, make, queue):
    case = queue(make.organisation())
    result = runner.invoke(args=["jobs", "run", "notices", "--now", "next tuesday"])
    assert result.exit_code == 2
    assert "Invalid value for '--now'" in result.output
    assert "is not an ISO 8601 date" in result.output
    assert letters() == []
    db.session.refresh(case)
    assert case.status == "notice_pending"


def test_an_unknown_job_is_refused(app, runner):
    result = runner.invoke(args=["jobs", "run", "retentionn"])
    assert result.exit_code == 2
    assert "notices" in result.output and "reminders" in result.output


def test_a_partial_failure_exits_1_and_says_so(app, runner, make, queue, monkeypatch):
    queue(make.organisation(name="Good"))
    queue(make.organisation(name="Bad"))

    def run(session, now, flask_app):
        def renderer(letter, letterhead):
            if letter.recipient_name == "Bad":
                raise RuntimeError("boom")
            return render_letter(letter, letterhead)

        from casemgr.jobs import notices

        return notices.run(session, now, flask_app, renderer=renderer)

    monkeypatch.setitem(jobs_cli.JOBS, "notices", run)
    result = runner.invoke(args=["jobs", "run", "notices"])
    assert result.exit_code == 1
    assert "1 letters (notice 1)" in result.output
    assert "1 failed" in result.output
    assert "failed: notice to organisation" in result.output
    assert "RuntimeError: boom" in result.output

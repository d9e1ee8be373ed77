"""The retention job purges reporters' contact details, with an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.cases import services as cases
from casemgr.cases.models import Submission
from casemgr.extensions import db
from casemgr.jobs import retention
from casemgr.jobs.cli import JOBS
from casemgr.jobs.scheduler import intervals
from config import Config
from tests.conftest import NOW

SETTINGS = {"CONTACT_RETENTION_DAYS": 90}


def report_with_contact(make, *urls, at=None):
    return make.report(
        *urls, reporter_contact="me@example.net", feedback_requested=True, at=at
    ).submission


def close(case, at, make):
    """Close ``case`` at ``at`` through the workflow (assign, assess not illegal)."""
    analyst = make.user("analyst")
    for action, fields, moment in (
        ("assign", {}, at - timedelta(minutes=5)),
        ("assess", {"classification": "not_illegal"}, at),
    ):
        cases.apply_action(
            db.session, case, action, fields, actor=analyst.actor, now=moment,
            timings=context.timings(),
        )  # fmt: skip
    db.session.commit()
    assert case.closed_at == at


def test_a_contact_is_purged_once_the_last_case_closed_long_enough_ago(app, make):
    start = NOW - timedelta(days=200)
    submission = report_with_contact(
        make, "http://a.example.com/1", "http://a.example.com/2", at=start
    )
    first, second = submission.cases
    close(first, NOW - timedelta(days=150), make)
    close(second, NOW - timedelta(days=90), make)  # the newest closing decides

    summary = retention.run(db.session, NOW, SETTINGS)
    assert summary["purged"] == 0  # exactly 90 days: not yet
    summary = retention.run(db.session, NOW + timedelta(seconds=1), SETTINGS)
    db.session.commit()
    assert summary["purged"] == 1 and summary["submissions"] == [submission.reference]

    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.reporter_contact is None
    assert submission.contact_purged_at == NOW + timedelta(seconds=1)
    assert [c.url for c in submission.cases] == ["http://a.example.com/1", "http://a.example.com/2"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.purge"))
    assert entry.target_id == str(submission.id) and entry.actor_id is None
    # Idempotent: a second run finds nothing.
    assert retention.run(db.session, NOW + timedelta(days=1), SETTINGS)["purged"] == 0


def test_an_open_case_holds_the_contact(app, make):
    submission = report_with_contact(
        make, "http://b.example.com/1", "http://b.example.com/2", at=NOW - timedelta(days=400)
    )
    close(submission.cases[0], NOW - timedelta(days=300), make)
    assert retention.run(db.session, NOW, SETTINGS)["purged"] == 0
    assert submission.reporter_contact is not None


def test_a_reopened_case_holds_the_contact_until_it_closes_again(app, make):
    submission = report_with_contact(make, "http://c.example.com/1", at=NOW - timedelta(days=400))
    case = submission.cases[0]
    close(case, NOW - timedelta(days=300), make)
    supervisor = make.user("supervisor")
    cases.apply_action(
        db.session, case, "reopen", {"reason": "it came back"}, actor=supervisor.actor,
        now=NOW - timedelta(days=200), timings=context.timings(),
    )  # fmt: skip
    db.session.commit()
    assert retention.run(db.session, NOW, SETTINGS)["purged"] == 0
    cases.apply_action(
        db.session, case, "assess", {"classification": "out_of_remit"}, actor=supervisor.actor,
        now=NOW - timedelta(days=10), timings=context.timings(),
    )  # fmt: skip
    db.session.commit()
    assert retention.run(db.session, NOW, SETTINGS)["purged"] == 0
    assert retention.run(db.session, NOW + timedelta(days=81), SETTINGS)["purged"] == 1


def test_the_period_is_a_setting(app, make):
    submission = report_with_contact(make, "http://d.example.com/1", at=NOW - timedelta(days=40))
    close(submission.cases[0], NOW - timedelta(days=31), make)
    assert retention.run(db.session, NOW, SETTINGS)["purged"] == 0
    assert retention.run(db.session, NOW, {"CONTACT_RETENTION_DAYS": 30})["purged"] == 1
    assert retention.run(db.session, NOW, {})["purged"] == 0  # default 90, nothing left anyway


def test_submissions_without_contact_are_left_alone(app, make):
    submission = make.report("http://e.example.com/1", at=NOW - timedelta(days=400)).submission
    close(submission.cases[0], NOW - timedelta(days=300), make)
    assert retention.run(db.session, NOW, SETTINGS)["purged"] == 0
    assert submission.contact_purged_at is None


@pytest.mark.parametrize("days", [-1, "ninety", None, True])
def test_a_bad_period_is_refused(app, days):
    with pytest.raises(ValueError, match="CONTACT_RETENTION_DAYS"):
        retention.run(db.session, NOW, {"CONTACT_RETENTION_DAYS": days})


def test_the_cli_runs_a_job_as_of_a_given_moment(app, make, runner):
    submission = report_with_contact(make, "http://f.example.com/1", at=NOW - timedelta(days=400))
    close(submission.cases[0], NOW - timedelta(days=100), make)
    early = runner.invoke(args=["jobs", "run", "retention", "--now", "2026-09-01"])
    assert early.exit_code == 0, early.output
    assert '"purged": 0' in early.output
    result = runner.invoke(args=["jobs", "run", "retention", "--now", "2026-11-28T09:00:00Z"])
    assert result.exit_code == 0, result.output
    assert '"purged": 1' in result.output and submission.reference in result.output
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).reporter_contact is None


def test_the_cli_uses_the_app_clock_without_now(app, make, runner, clock):
    submission = report_with_contact(make, "http://g.example.com/1", at=NOW - timedelta(days=400))
    close(submission.cases[0], NOW - timedelta(days=100), make)
    result = runner.invoke(args=["jobs", "run", "retention"])
    assert result.exit_code == 0 and NOW.isoformat() in result.output


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "", "28/11/2026"])
def test_a_now_that_is_not_a_date_exits_with_2(app, runner, value):
    result = runner.invoke(args=["jobs", "run", "retention", "--now", value])
    assert result.exit_code == 2
    assert "Invalid value for '--now'" in result.output
    assert "ISO 8601" in result.output


def test_an_unknown_job_exits_with_2(app, runner):
    result = runner.invoke(args=["jobs", "run", "nonesuch"])
    assert result.exit_code == 2 and "retention" in result.output


def test_the_registry_lists_callable_jobs(app, runner):
    listed = runner.invoke(args=["jobs", "list"]).output.split()
    assert "retention" in listed and listed == sorted(JOBS)
    assert all(callable(job) for job in JOBS.values())


def test_scheduled_by_default():
    """Nobody has to remember a cron job for the privacy rule."""
    assert intervals(Config.SCHEDULE)["retention"] == timedelta(hours=6)

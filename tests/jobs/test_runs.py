"""Every run of a job is recorded: by the scheduler and by ``jobs run``, a
crash too (in its own transaction), and old runs are pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from casemgr.directory.models import Organisation
from casemgr.extensions import db
from casemgr.jobs import cli as jobs_cli
from casemgr.jobs import runs, scheduler
from casemgr.jobs.models import JobRun
from tests.conftest import NOW


def all_runs() -> list[JobRun]:
    db.session.expire_all()
    return list(db.session.scalars(select(JobRun).order_by(JobRun.id)).all())


def add_run(job: str, outcome: str, at, *, error: str | None = None) -> JobRun:
    """A recorded run of ``job`` that ended at ``at``."""
    run = JobRun(
        job=job,
        trigger="scheduler",
        started_at=at,
        finished_at=at,
        as_of=at,
        outcome=outcome,
        summary="",
        error=error,
    )
    db.session.add(run)
    db.session.commit()
    return run


def broken(session, now, flask_app):
    """A job that writes, then crashes mid-run."""
    session.add(Organisation(kind="police", name="half-made", created_at=now))
    session.flush()
    raise RuntimeError("the job broke\nsecond line")


def test_a_scheduled_run_is_recorded_with_its_counts(app, make, queue, clock):
    queue(make.organisation())
    scheduler.run_job(app, "notices")
    (run,) = all_runs()
    assert (run.job, run.trigger, run.outcome, run.error) == (
        "notices",
        "scheduler",
        "succeeded",
        None,
    )
    assert run.started_at == run.finished_at == run.as_of == NOW
    assert run.summary == "1 letters (notice 1); 1 cases; 0 failed"


def test_a_crash_is_recorded_as_failed_though_its_work_rolled_back(app, monkeypatch):
    monkeypatch.setitem(jobs_cli.JOBS, "notices", broken)
    assert scheduler.run_job(app, "notices") is None
    (run,) = all_runs()
    assert run.outcome == "failed"
    assert run.error == "RuntimeError: the job broke"
    assert run.summary == ""
    assert db.session.scalar(select(Organisation).where(Organisation.name == "half-made")) is None


def test_a_crash_by_hand_is_recorded_and_raised(app, runner, monkeypatch):
    monkeypatch.setitem(jobs_cli.JOBS, "notices", broken)
    result = runner.invoke(args=["jobs", "run", "notices", "--now", "2026-11-01T00:00Z"])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    (run,) = all_runs()
    assert (run.trigger, run.outcome, run.error) == ("cli", "failed", "RuntimeError: the job broke")
    # The run happened now; it worked as of the moment asked for.
    assert run.started_at == NOW
    assert run.as_of.isoformat() == "2026-11-01T00:00:00+00:00"


def test_a_run_by_hand_is_recorded(app, runner):
    result = runner.invoke(args=["jobs", "run", "retention"])
    assert result.exit_code == 0, result.output
    (run,) = all_runs()
    assert (run.job, run.trigger, run.outcome, run.summary) == (
        "retention",
        "cli",
        "succeeded",
        "purged 0",
    )


def test_a_partial_failure_is_a_failed_run_naming_what_failed(app, runner, monkeypatch):
    from casemgr.jobs.base import JobSummary

    def partly(session, now, flask_app):
        summary = JobSummary("notices", now)
        summary.failures.append("notice to organisation 3: RuntimeError: boom")
        return summary

    monkeypatch.setitem(jobs_cli.JOBS, "notices", partly)
    assert runner.invoke(args=["jobs", "run", "notices"]).exit_code == 1
    (run,) = all_runs()
    assert run.outcome == "failed"
    assert run.error == "1 failed: notice to organisation 3: RuntimeError: boom"
    assert run.summary == "0 letters; 0 cases; 1 failed"


def test_a_job_switched_off_is_a_skipped_run(app, runner):
    result = runner.invoke(args=["jobs", "run", "url_checks"])
    assert result.exit_code == 0, result.output
    (run,) = all_runs()
    assert run.outcome == "skipped"
    assert run.summary.startswith("disabled: URL_CHECKS_ENABLED is False")


def test_a_database_error_is_recorded_without_its_statement_or_parameters():
    orig = Exception('duplicate key value violates unique constraint "uq_x"\nDETAIL: Key (url)=(x)')
    exc = IntegrityError("INSERT INTO cases (url) VALUES (%(url)s)", {"url": "http://secret"}, orig)
    assert (
        runs.error_text(exc) == 'Exception: duplicate key value violates unique constraint "uq_x"'
    )


def test_a_failed_batch_is_recorded_without_its_statement_or_parameters(app, runner, monkeypatch):
    from casemgr.jobs.base import JobSummary

    orig = Exception("duplicate key value violates unique constraint\nDETAIL:  Key (url)=(x)")
    exc = IntegrityError("INSERT INTO cases (url) VALUES (%(url)s)", {"url": "http://secret"}, orig)

    def partly(session, now, flask_app):
        summary = JobSummary("notices", now)
        summary.failures.append(f"notice to organisation 3: {type(exc).__name__}: {exc}")
        return summary

    monkeypatch.setitem(jobs_cli.JOBS, "notices", partly)
    runner.invoke(args=["jobs", "run", "notices"])
    (run,) = all_runs()
    assert run.error == (
        "1 failed: notice to organisation 3: IntegrityError: (builtins.Exception) "
        "duplicate key value violates unique constraint"
    )


def test_writing_a_run_prunes_that_jobs_old_runs_but_its_last_success(app, clock, monkeypatch):
    old = NOW - timedelta(days=91)
    last_success = add_run("retention", "succeeded", old - timedelta(days=1)).finished_at
    add_run("retention", "failed", old, error="E: x")
    add_run("retention", "failed", NOW - timedelta(days=89), error="E: y")
    add_run("notices", "failed", old, error="E: z")  # another job's: pruned by its own runs
    with monkeypatch.context() as patch:
        patch.setitem(jobs_cli.JOBS, "retention", broken)
        scheduler.run_job(app, "retention")
    assert [(run.job, run.outcome, run.finished_at) for run in all_runs()] == [
        ("retention", "succeeded", last_success),
        ("retention", "failed", NOW - timedelta(days=89)),
        ("notices", "failed", old),
        ("retention", "failed", NOW),
    ]
    # A newer success: the old one is pruned in its turn.
    clock.advance(days=1)
    scheduler.run_job(app, "retention")
    assert [(run.outcome, run.finished_at) for run in all_runs() if run.job == "retention"] == [
        ("failed", NOW - timedelta(days=89)),
        ("failed", NOW),
        ("succeeded", NOW + timedelta(days=1)),
    ]


@pytest.mark.parametrize("app_config", [{"JOB_RUN_RETENTION_DAYS": 10}])
def test_the_retention_is_a_setting(app, clock):
    add_run("retention", "failed", NOW - timedelta(days=11), error="E: x")
    add_run("retention", "failed", NOW - timedelta(days=9), error="E: y")
    scheduler.run_job(app, "retention")
    assert [run.finished_at for run in all_runs()] == [NOW - timedelta(days=9), NOW]


@pytest.mark.parametrize("app_config", [{"JOB_RUN_RETENTION_DAYS": "soon"}])
def test_a_bad_retention_setting_records_the_run_and_says_why_nothing_is_pruned(app, caplog):
    add_run("retention", "failed", NOW - timedelta(days=365), error="E: x")
    scheduler.run_job(app, "retention")
    assert len(all_runs()) == 2
    assert "JOB_RUN_RETENTION_DAYS must be a number of days" in caplog.text

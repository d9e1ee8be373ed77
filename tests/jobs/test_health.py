"""The job table: never ran, late, failed, off; as /healthz and ``jobs status`` show it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casemgr.extensions import db
from casemgr.jobs import cli as jobs_cli
from casemgr.jobs import health, scheduler
from tests.conftest import NOW
from tests.jobs.test_runs import add_run, broken

SCHEDULE = {
    "notices": {"minutes": 15},
    "outbox": {"minutes": 1},
    "url_checks": {"hours": 6},  # URL_CHECKS_ENABLED is False: off
    "mail": {"minutes": 5},  # IMAP_URL is empty: off
}


@pytest.fixture
def app_config():
    return {"SCHEDULE": SCHEDULE}


def table(app, now=NOW) -> dict[str, health.JobState]:
    return {state.job: state for state in health.job_table(db.session, app.config, now)}


def all_fine() -> None:
    add_run("notices", "succeeded", NOW - timedelta(minutes=10))
    add_run("outbox", "succeeded", NOW - timedelta(seconds=30))


def test_before_any_run_every_job_that_is_on_never_ran(app):
    jobs = table(app)
    assert set(jobs) == set(jobs_cli.JOBS)
    assert jobs["notices"].state == "never_ran" and jobs["notices"].late
    assert jobs["url_checks"].state == "off" and not jobs["url_checks"].late
    assert jobs["url_checks"].off == "URL_CHECKS_ENABLED is not set"
    assert jobs["mail"].off == "IMAP_URL is not set"
    assert jobs["reminders"].off == "not in SCHEDULE"
    assert health.scheduler_never_ran(list(jobs.values()))


def test_a_job_is_late_after_two_intervals_without_a_success(app):
    add_run("notices", "succeeded", NOW - timedelta(minutes=29))
    add_run("outbox", "succeeded", NOW - timedelta(minutes=2, seconds=1))
    jobs = table(app)
    assert jobs["notices"].state == "ok" and not jobs["notices"].late
    assert jobs["outbox"].state == "late" and jobs["outbox"].late
    assert not health.scheduler_never_ran(list(jobs.values()))
    # Later, notices is late too.
    assert table(app, NOW + timedelta(minutes=2))["notices"].late


def test_failures_since_the_last_success_make_a_job_failed_and_in_time_late(app):
    add_run("notices", "succeeded", NOW - timedelta(minutes=20))
    add_run("notices", "failed", NOW - timedelta(minutes=5), error="RuntimeError: x")
    notices = table(app)["notices"]
    assert notices.state == "failed" and not notices.late
    assert notices.last_success.finished_at == NOW - timedelta(minutes=20)
    assert notices.last_run.error == "RuntimeError: x"
    assert table(app, NOW + timedelta(minutes=11))["notices"].late


def test_the_table_is_one_query(app):
    from sqlalchemy import event

    all_fine()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        health.job_table(db.session, app.config, NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1


# --- /healthz


def test_healthz_keeps_its_status_and_reports_each_job_that_is_on(app, client):
    all_fine()
    answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json
    assert body["status"] == "ok" and body["jobs_status"] == "ok"
    assert set(body["jobs"]) == {"notices", "outbox"}  # url_checks is off
    assert body["jobs"]["notices"] == {
        "state": "ok",
        "interval_seconds": 900,
        "last_run": (NOW - timedelta(minutes=10)).isoformat(),
        "last_outcome": "succeeded",
        "last_success": (NOW - timedelta(minutes=10)).isoformat(),
        "late": False,
        "never_ran": False,
    }
    assert client.get("/healthz?jobs=strict").status_code == 200


def test_healthz_with_a_job_that_never_ran_stays_200_unless_strict(app, client):
    add_run("outbox", "succeeded", NOW)
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json["jobs_status"] == "attention"
    assert answer.json["jobs"]["notices"]["state"] == "never_ran"
    assert answer.json["jobs"]["notices"]["last_run"] is None
    strict = client.get("/healthz?jobs=strict")
    assert strict.status_code == 503 and strict.json["status"] == "ok"


def test_healthz_shows_a_late_job(app, client):
    all_fine()
    add_run("outbox", "succeeded", NOW - timedelta(minutes=5))  # not the last by id, but...
    add_run("outbox", "failed", NOW - timedelta(minutes=3), error="E: x")
    jobs = client.get("/healthz").json["jobs"]
    assert jobs["outbox"]["state"] == "failed"
    assert jobs["outbox"]["last_success"] == (NOW - timedelta(minutes=5)).isoformat()
    assert jobs["outbox"]["late"] is True
    assert client.get("/healthz?jobs=strict").status_code == 503


def test_a_job_that_crashed_shows_on_healthz_without_its_error(app, client, monkeypatch):
    all_fine()
    monkeypatch.setitem(jobs_cli.JOBS, "notices", broken)
    scheduler.run_job(app, "notices")
    answer = client.get("/healthz")
    assert answer.status_code == 200
    notices = answer.json["jobs"]["notices"]
    assert (notices["state"], notices["last_outcome"]) == ("failed", "failed")
    assert "broke" not in answer.get_data(as_text=True)  # errors are for the System page


# --- jobs status


def test_jobs_status_prints_the_table_and_exits_0_when_all_is_well(app, runner):
    all_fine()
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "job", "interval", "last", "run", "last", "success", "outcome", "state", "summary"
    ]  # fmt: skip
    notices = next(line for line in lines if line.startswith("notices "))
    assert notices.split() == [
        "notices", "15", "min", "2026-11-28T08:50Z", "2026-11-28T08:50Z", "succeeded", "ok"
    ]  # fmt: skip
    assert "off (URL_CHECKS_ENABLED is not set)" in result.output


def test_jobs_status_exits_1_naming_what_is_late_or_failed(app, runner):
    all_fine()
    add_run("notices", "failed", NOW, error="RuntimeError: boom")
    late = runner.invoke(args=["jobs", "status", "--now", "2026-11-28T09:05Z"])
    assert late.exit_code == 1
    assert "outbox: late: no success since 2026-11-28T08:59:30+00:00 (every 1 min)" in late.output
    assert "notices: its last run failed: RuntimeError: boom" in late.output


def test_jobs_status_says_when_the_scheduler_never_ran(app, runner):
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 1
    assert "The scheduler has never run" in result.output
    assert "notices: never ran" in result.output


def test_jobs_status_help_tells_the_exit_status(app, runner):
    result = runner.invoke(args=["jobs", "status", "--help"])
    assert "Exit status: 0 when every job that is on is fine, 1 when one is late" in " ".join(
        result.output.split()
    )


def test_jobs_status_refuses_a_bad_now(app, runner):
    result = runner.invoke(args=["jobs", "status", "--now", "yesterday"])
    assert result.exit_code == 2
    assert "Invalid value for '--now'" in result.output

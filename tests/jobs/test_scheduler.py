"""The scheduler process: its job wrapper, its settings, and a clean stop on SIGTERM."""

from __future__ import annotations

import logging
import os
import select as io_select
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from casemgr.cases.models import Case
from casemgr.directory.models import Organisation
from casemgr.extensions import db
from casemgr.jobs import cli as jobs_cli
from casemgr.jobs import scheduler
from tests.jobs.conftest import letters

ROOT = Path(__file__).resolve().parents[2]


def test_run_job_commits_and_logs_one_line(app, make, queue, caplog):
    case = queue(make.organisation())
    case_id = case.id
    with caplog.at_level(logging.INFO, logger="casemgr.jobs"):
        summary = scheduler.run_job(app, "notices")
    assert summary.letter_count == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "casemgr.jobs"]
    assert lines == [
        "job notices as of 2026-11-28T09:00:00+00:00: 1 letters (notice 1); 1 cases; 0 failed"
    ]
    db.session.remove()  # what the job committed is there for another session
    assert db.session.get(Case, case_id).status == "notice_sent"
    assert len(letters()) == 1


def test_run_job_rolls_back_a_job_that_fails(app, monkeypatch, caplog):
    def broken(session, now, flask_app):
        session.add(Organisation(kind="police", name="half-made", created_at=now))
        session.flush()
        raise RuntimeError("the job broke")

    monkeypatch.setitem(jobs_cli.JOBS, "notices", broken)
    with caplog.at_level(logging.ERROR, logger="casemgr.jobs"):
        assert scheduler.run_job(app, "notices") is None
    assert "job notices as of 2026-11-28T09:00:00+00:00 failed and was rolled back" in caplog.text
    assert "the job broke" in caplog.text
    assert db.session.scalar(select(Organisation).where(Organisation.name == "half-made")) is None


def test_intervals_from_configuration():
    assert scheduler.intervals({"notices": {"minutes": 15}, "reminders": {"hours": 1}}) == {
        "notices": timedelta(minutes=15),
        "reminders": timedelta(hours=1),
    }


def test_the_first_runs_are_due_at_the_apps_now(app, clock):
    """The scheduler's start is the app's clock, like every other "now"."""
    built = scheduler.build_scheduler(
        app, {"notices": timedelta(minutes=15), "reminders": timedelta(hours=1)}
    )
    try:
        built.start(paused=True)
        assert {job.id: job.next_run_time for job in built.get_jobs()} == {
            "notices": clock.now(),
            "reminders": clock.now(),
        }
    finally:
        built.shutdown(wait=False)


@pytest.mark.parametrize(
    "schedule, message",
    [
        ({}, "must map job names"),
        ({"notice": {"minutes": 5}}, "unknown job 'notice'"),
        ({"notices": {"fortnights": 1}}, "must be like"),
        ({"notices": {"minutes": "5"}}, "must give numbers"),
        ({"notices": {"minutes": 0}}, "positive"),
        ({"notices": 15}, "must be like"),
    ],
)
def test_bad_schedules_are_refused(schedule, message):
    with pytest.raises(ValueError, match=message):
        scheduler.intervals(schedule)


def test_web_processes_never_start_the_scheduler(app, client):
    client.get("/login")
    assert not [t for t in threading.enumerate() if t.name == "APScheduler"]


def _wait_for(stream, needle: str, timeout: float) -> str:
    """Read ``stream`` until a line holds ``needle``; what was read."""
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = io_select.select([stream], [], [], 0.2)
        if ready:
            line = stream.readline()
            if not line:
                break
            seen += line
            if needle in line:
                return seen
    raise AssertionError(f"{needle!r} not seen in {timeout} s; output:\n{seen}")


@pytest.mark.slow
def test_scheduler_process_runs_jobs_and_stops_cleanly_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'scheduler.db'}",
        "CASEMGR_ENV": "development",
        "CASEMGR_SCHEDULE": '{"notices": {"seconds": 1}, "reminders": {"seconds": 2}}',
        "PYTHONUNBUFFERED": "1",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [*flask, "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = _wait_for(process.stdout, "scheduler started", 30)
        output += _wait_for(process.stdout, "job notices as of", 30)
        output += _wait_for(process.stdout, "job notices as of", 30)  # and again a second later
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output += rest
    assert process.returncode == 0, output
    assert "scheduler started: notices every 0:00:01, reminders every 0:00:02" in output
    assert "0 letters; 0 cases; 0 failed" in output
    assert "SIGTERM received, stopping" in output
    assert output.rstrip().endswith("scheduler stopped")
    assert "Traceback" not in output

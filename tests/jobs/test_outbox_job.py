"""The outbox job in the registry, the schedule and the command line.

What a run delivers is in ``tests/outbox`` (``test_delivery.py`` and the
others), beside the real SMTP server the job talks to.
"""

from __future__ import annotations

from datetime import timedelta

from casemgr.jobs import cli as jobs_cli
from casemgr.jobs.scheduler import intervals
from config import Config
from tests.conftest import NOW
from tests.jobs.conftest import run_notices
from tests.outbox.conftest import (  # noqa: F401 - fixtures: the SMTP server and its settings
    app_config,
    mail_config,
    recorder,
    smtp,
    smtp_port,
)


def test_registered_and_scheduled_every_minute():
    assert {"outbox", "notifications"} <= set(jobs_cli.JOBS)
    schedule = intervals(Config.SCHEDULE)
    assert schedule["outbox"] == timedelta(minutes=1)
    assert schedule["notifications"] == timedelta(minutes=5)


def test_flask_jobs_run_outbox(app, runner, make, queue, smtp):  # noqa: F811 - the fixture
    smtp.start()
    queue(make.organisation())
    run_notices(app, NOW)
    result = runner.invoke(args=["jobs", "run", "outbox", "--now", "2026-11-28T10:00Z"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "outbox as of 2026-11-28T10:00:00+00:00: 1 sent, 0 deferred, 0 failed, "
        "0 outcome unknown, connections 1; 0 errors"
    )
    assert len(smtp.received) == 1


def test_flask_jobs_run_notifications(runner):
    result = runner.invoke(args=["jobs", "run", "notifications"])
    assert result.exit_code == 0, result.output
    assert "0 overdue notified" in result.output

"""The scheduler process: ``flask --app wsgi scheduler``.

Run exactly one, as a service beside the web processes (which never run
jobs: nothing here is started by ``create_app``). It runs each job of
``SCHEDULE`` (``{"notices": {"minutes": 15}, ...}``) on its interval, once
at start, one job at a time, never two runs of a job at once
(``max_instances=1``) and one catch-up run after a pause (``coalesce``).
SIGTERM or SIGINT stops it cleanly: the running job finishes and commits,
then the process exits 0.

Each run is wrapped by :func:`run_job`: an app context, commit or roll back,
the run recorded (:mod:`casemgr.jobs.runs`), and a one-line summary in the log.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Mapping
from datetime import UTC, timedelta
from typing import Any

import click
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from casemgr import context
from casemgr.extensions import db
from casemgr.jobs.cli import JOBS, describe, enabled, off_reason, run_and_commit
from casemgr.jobs.runs import run_recorded

log = logging.getLogger("casemgr.jobs")

INTERVAL_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


def run_job(app: Flask, name: str) -> Any:
    """Run job ``name`` once as of the app's clock: commit, or roll back and log.

    Returns the job's summary, or None when it failed as a whole.
    """
    with app.app_context():
        now = context.now()
        try:
            summary = run_recorded(
                app, name, lambda: run_and_commit(name, now, app), as_of=now, trigger="scheduler"
            )
        except Exception:
            log.exception("job %s as of %s failed and was rolled back", name, now.isoformat())
            return None
        finally:
            db.session.remove()
        log.info("job %s", describe(name, now, summary))
        return summary


def intervals(schedule: Mapping[str, Any]) -> dict[str, timedelta]:
    """``SCHEDULE`` checked: job name -> interval; raises ValueError naming the problem."""
    if not isinstance(schedule, Mapping) or not schedule:
        raise ValueError(
            "SCHEDULE must map job names to intervals, e.g. {'notices': {'minutes': 15}}"
        )
    checked: dict[str, timedelta] = {}
    for name, spec in schedule.items():
        if name not in JOBS:
            raise ValueError(
                f"SCHEDULE names an unknown job {name!r}; jobs: {', '.join(sorted(JOBS))}"
            )
        if not isinstance(spec, Mapping) or not spec or set(spec) - set(INTERVAL_UNITS):
            raise ValueError(
                f"SCHEDULE[{name!r}] must be like {{'minutes': 15}} with units {INTERVAL_UNITS}"
            )
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in spec.values()):
            raise ValueError(f"SCHEDULE[{name!r}] must give numbers")
        interval = timedelta(**spec)
        if interval <= timedelta(0):
            raise ValueError(f"SCHEDULE[{name!r}] must be a positive interval")
        checked[name] = interval
    return checked


def scheduled(app: Flask, schedule: Mapping[str, timedelta]) -> dict[str, timedelta]:
    """``schedule`` without the jobs whose setting is off (``URL_CHECKS_ENABLED``...)."""
    return {name: interval for name, interval in schedule.items() if enabled(name, app.config)}


def build_scheduler(app: Flask, schedule: Mapping[str, timedelta]) -> BackgroundScheduler:
    """A scheduler of the jobs of ``schedule`` that are on (see :func:`scheduled`)."""
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        timezone=UTC,
    )
    start = app.extensions["casemgr.clock"].now()
    for name, interval in scheduled(app, schedule).items():
        scheduler.add_job(
            run_job,
            "interval",
            args=(app, name),
            id=name,
            name=name,
            seconds=interval.total_seconds(),
            next_run_time=start,
        )
    return scheduler


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduled jobs until stopped (SIGTERM or Ctrl-C). Run one only."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        schedule = intervals(app.config["SCHEDULE"])
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    log.setLevel(logging.INFO)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("scheduler: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler = build_scheduler(app, schedule)
    scheduler.start()
    running = scheduled(app, schedule)
    log.info(
        "scheduler started: %s",
        ", ".join(f"{name} every {interval}" for name, interval in running.items()),
    )
    for name in sorted(set(schedule) - set(running)):
        log.info("scheduler: %s is not run: %s", name, off_reason(name, app.config))
    while not stop.wait(0.5):
        pass
    scheduler.shutdown(wait=True)
    log.info("scheduler stopped")

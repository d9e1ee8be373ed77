"""Is each job running? The table ``/healthz``, the System page, the staff
banner and ``jobs status`` show.

A job is *on* when ``SCHEDULE`` gives it an interval and no setting switches
it off (:func:`casemgr.jobs.cli.off_reason`). An on job is **late** when no
run of it succeeded within two of its intervals (one that never succeeded,
or never ran, is late too); it **never ran** when no run of it is recorded;
it **failed** when its last run failed. A job that is off is none of these.

The runs are read in one query: for each job, its last run and its last
success, each one probe of an index of ``job_runs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from casemgr.jobs.cli import JOBS, off_reason
from casemgr.jobs.models import FAILED, SUCCEEDED, JobRun
from casemgr.jobs.scheduler import intervals

# How many intervals without a success make a job late.
LATE_AFTER_INTERVALS = 2

OK, OFF, LATE, NEVER_RAN = "ok", "off", "late", "never_ran"


@dataclass(frozen=True)
class RunInfo:
    started_at: datetime
    finished_at: datetime
    outcome: str
    summary: str
    error: str | None
    trigger: str

    @classmethod
    def of(cls, run: JobRun | None) -> RunInfo | None:
        if run is None:
            return None
        return cls(
            run.started_at, run.finished_at, run.outcome, run.summary, run.error, run.trigger
        )


@dataclass(frozen=True)
class JobState:
    job: str
    interval: timedelta | None  # None: not in SCHEDULE
    off: str | None  # why the job is off; None: it is on
    last_run: RunInfo | None
    last_success: RunInfo | None
    late: bool
    never_ran: bool

    @property
    def on(self) -> bool:
        return self.off is None

    @property
    def failed(self) -> bool:
        return self.on and self.last_run is not None and self.last_run.outcome == FAILED

    @property
    def needs_attention(self) -> bool:
        return self.late or self.never_ran or self.failed

    @property
    def state(self) -> str:
        """off, never_ran, failed, late or ok: the first that holds."""
        if not self.on:
            return OFF
        if self.never_ran:
            return NEVER_RAN
        if self.failed:
            return FAILED
        return LATE if self.late else OK

    def as_json(self) -> dict[str, Any]:
        """What ``/healthz`` says of an on job: times and outcomes, never a
        summary or an error (it answers anyone)."""
        return {
            "state": self.state,
            "interval_seconds": int(self.interval.total_seconds()) if self.interval else None,
            "last_run": self.last_run.finished_at.isoformat() if self.last_run else None,
            "last_outcome": self.last_run.outcome if self.last_run else None,
            "last_success": (
                self.last_success.finished_at.isoformat() if self.last_success else None
            ),
            "late": self.late,
            "never_ran": self.never_ran,
        }


def schedule_of(config: Mapping[str, Any]) -> dict[str, tuple[timedelta | None, str | None]]:
    """Every job: (its interval, why it is off or None), from the settings.

    A job missing from ``SCHEDULE``, or whose entry there is wrong (the
    scheduler refuses to start then), is off, saying so."""
    schedule = config.get("SCHEDULE") or {}
    if not isinstance(schedule, Mapping):
        schedule = {}
    jobs: dict[str, tuple[timedelta | None, str | None]] = {}
    for name in sorted(JOBS):
        if name not in schedule:
            jobs[name] = (None, "not in SCHEDULE")
            continue
        try:
            interval = intervals({name: schedule[name]})[name]
        except ValueError as exc:
            jobs[name] = (None, str(exc))
            continue
        jobs[name] = (interval, off_reason(name, config))
    return jobs


def job_table(session: Session, config: Mapping[str, Any], now: datetime) -> list[JobState]:
    """Every job with its last run, last success, and whether it is late, as of ``now``."""
    jobs = schedule_of(config)
    last_runs, last_successes = latest_runs(session, list(jobs))
    table = []
    for name, (interval, off) in jobs.items():
        last_run, last_success = last_runs.get(name), last_successes.get(name)
        on = off is None and interval is not None
        late = on and (
            last_success is None or last_success.finished_at < now - LATE_AFTER_INTERVALS * interval
        )
        table.append(
            JobState(
                job=name,
                interval=interval,
                off=off,
                last_run=RunInfo.of(last_run),
                last_success=RunInfo.of(last_success),
                late=late,
                never_ran=on and last_run is None,
            )
        )
    return table


def latest_runs(session: Session, jobs: list[str]) -> tuple[dict[str, JobRun], dict[str, JobRun]]:
    """(last run per job, last success per job), in one query."""
    if not jobs:
        return {}, {}
    runs = session.scalars(_latest_statement(tuple(jobs))).all()
    last_runs: dict[str, JobRun] = {}
    last_successes: dict[str, JobRun] = {}
    for run in runs:
        if run.id > getattr(last_runs.get(run.job), "id", 0):
            last_runs[run.job] = run
        if run.outcome == SUCCEEDED and run.id > getattr(last_successes.get(run.job), "id", 0):
            last_successes[run.job] = run
    return last_runs, last_successes


@lru_cache(maxsize=16)
def _latest_statement(jobs: tuple[str, ...]) -> Select:
    # Built once per set of jobs: building it costs more than running it.
    probes = []
    for name in jobs:
        newest = select(JobRun.id).where(JobRun.job == name)
        probes.append(newest.order_by(JobRun.id.desc()).limit(1).scalar_subquery())
        succeeded = newest.where(JobRun.outcome == SUCCEEDED)
        probes.append(succeeded.order_by(JobRun.id.desc()).limit(1).scalar_subquery())
    return select(JobRun).where(JobRun.id.in_(probes))


def attention(table: list[JobState]) -> list[JobState]:
    """The on jobs that are late, never ran, or failed their last run."""
    return [state for state in table if state.needs_attention]


def scheduler_never_ran(table: list[JobState]) -> bool:
    """No run of any on job is recorded (at least one job being on)."""
    on = [state for state in table if state.on]
    return bool(on) and all(state.last_run is None for state in on)

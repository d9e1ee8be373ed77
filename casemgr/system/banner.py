"""The staff banner when a scheduled job needs attention (supervisors and admins).

Drawn on every staff page, so it must be cheap: the job table (one indexed
query, :func:`casemgr.jobs.health.job_table`) is read at most once per
``JOB_STATUS_CACHE_SECONDS`` (default 30) per process, and only for
supervisors and admins; within that time the answer comes from memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app

from casemgr import context
from casemgr.extensions import db
from casemgr.jobs.health import attention, job_table, scheduler_never_ran

CACHE_KEY = "casemgr.system.banner"
DEFAULT_CACHE_SECONDS = 30


@dataclass(frozen=True)
class Banner:
    never_ran: bool  # the scheduler has never run (no run of any job)
    jobs: tuple[tuple[str, str], ...]  # (job, state: late / failed / never_ran)

    def __bool__(self) -> bool:
        return self.never_ran or bool(self.jobs)


def current_banner(app: Flask | None = None) -> Banner:
    """The banner's content now, from the per-process cache when fresh."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    now = context.now()
    cached: tuple[datetime, Banner] | None = app.extensions.get(CACHE_KEY)
    if cached is not None and now < cached[0]:
        return cached[1]
    table = job_table(db.session, app.config, now)
    banner = Banner(
        never_ran=scheduler_never_ran(table),
        jobs=tuple((state.job, state.state) for state in attention(table)),
    )
    seconds = app.config.get("JOB_STATUS_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
    app.extensions[CACHE_KEY] = (now + timedelta(seconds=seconds), banner)
    return banner


def forget(app: Flask) -> None:
    """Drop the cached banner (tests; a page that just showed the fresh table)."""
    app.extensions.pop(CACHE_KEY, None)

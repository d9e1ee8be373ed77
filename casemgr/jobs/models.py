"""One row per run of a scheduled job: when, how it ended, what it did.

Written by :func:`casemgr.jobs.runs.run_recorded` in a session of its own
(so a run whose own transaction rolled back is still recorded), read by
``/healthz``, the System page, the staff banner and ``jobs status``. Rows
older than ``JOB_RUN_RETENTION_DAYS`` are pruned as runs are written.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from casemgr.database import Base, UTCDateTime

SUCCEEDED, FAILED, SKIPPED = "succeeded", "failed", "skipped"
OUTCOMES = (SUCCEEDED, FAILED, SKIPPED)
# Who started the run: the scheduler process, or someone with ``jobs run``.
TRIGGERS = ("scheduler", "cli")
MAX_SUMMARY_LENGTH = 500
MAX_ERROR_LENGTH = 500


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (
        # A job's last run, and its last success: one index probe each.
        Index("ix_job_runs_job_id", "job", "id"),
        Index("ix_job_runs_job_outcome_id", "job", "outcome", "id"),
        # The prune: a job's runs older than the retention period.
        Index("ix_job_runs_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(16))  # one of TRIGGERS
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The moment the job worked as of (``--now``); the start itself for the scheduler.
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # one of OUTCOMES
    # What it did, in counts (the job's one-line summary without its head).
    summary: Mapped[str] = mapped_column(String(MAX_SUMMARY_LENGTH), default="")
    # On failure: the exception's type and the first line of its message.
    error: Mapped[str | None] = mapped_column(String(MAX_ERROR_LENGTH))

    def __repr__(self) -> str:
        return f"<JobRun {self.job} {self.outcome} {self.started_at:%Y-%m-%dT%H:%M}>"

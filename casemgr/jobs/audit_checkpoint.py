"""The audit_checkpoint job: the head of the audit log, signed, sent out of the
database's reach.

``flask --app wsgi jobs run audit_checkpoint [--now ISO]``; the scheduler runs
it daily. Each run takes the newest entry's id and hash and the number of
entries up to it, signs them under the audit key (casemgr/audit/checkpoints.py),
stores the checkpoint, queues it by e-mail to AUDIT_CHECKPOINT_EMAIL through
the outbox (retried like any message) and appends it to
AUDIT_CHECKPOINT_FILE; either setting may be empty, and the summary says
what was skipped. The run is itself audited (``audit.checkpoint``), after the
head it recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from casemgr.audit.checkpoints import append_to_file, installation_id, store, take
from casemgr.audit.services import record
from casemgr.jobs.base import JobSummary
from casemgr.outbox.mailer import mailbox
from casemgr.outbox.queueing import enqueue_checkpoint

NAME = "audit_checkpoint"


@dataclass
class CheckpointSummary(JobSummary):
    entry_id: int = 0
    count: int = 0
    entry_hash: str = ""
    emailed: str = ""
    filed: str = ""

    def line(self) -> str:
        """``audit_checkpoint as of ...: entry 127 of 127 (hash 1f2e...); e-mail queued to
        ...; file appended to ...; 0 failed``."""
        return (
            f"{self.job} as of {self.now.isoformat()}: entry {self.entry_id} of {self.count} "
            f"(hash {self.entry_hash[:16]}); e-mail {self.emailed}; file {self.filed}; "
            f"{self.failed} failed"
        )

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "entry_id": self.entry_id,
            "count": self.count,
            "entry_hash": self.entry_hash,
            "emailed": self.emailed,
            "filed": self.filed,
        }


def run(session: Session, now: datetime, app: Flask) -> CheckpointSummary:
    config = app.config
    checkpoint = take(
        session,
        app.extensions["casemgr.audit_keys"],
        installation=installation_id(config),
        now=now,
    )
    row = store(session, checkpoint)
    summary = CheckpointSummary(
        NAME,
        now,
        entry_id=checkpoint.entry_id,
        count=checkpoint.count,
        entry_hash=checkpoint.entry_hash,
    )
    setting = str(config.get("AUDIT_CHECKPOINT_EMAIL") or "")
    address = mailbox(setting) if setting else None
    if not setting:
        summary.emailed = "skipped (AUDIT_CHECKPOINT_EMAIL is not set)"
    elif address is None:
        summary.emailed = "not sent"
        summary.failures.append(f"AUDIT_CHECKPOINT_EMAIL {setting!r} is not an e-mail address")
    else:
        enqueue_checkpoint(session, row.id, address, now=now)
        summary.emailed = f"queued to {address}"
    path = str(config.get("AUDIT_CHECKPOINT_FILE") or "")
    record(
        session,
        action="audit.checkpoint",
        now=now,
        target_type="audit_checkpoint",
        target_id=row.id,
        details={
            "entry_id": checkpoint.entry_id,
            "count": checkpoint.count,
            "entry_hash": checkpoint.entry_hash,
            "key_id": checkpoint.key_id,
            "emailed_to": address,
            "file": path or None,
        },
    )
    session.commit()  # stored and queued before the file says it exists
    if not path:
        summary.filed = "skipped (AUDIT_CHECKPOINT_FILE is not set)"
    else:
        try:
            append_to_file(path, checkpoint)
            summary.filed = f"appended to {path}"
        except OSError as exc:
            summary.filed = "not written"
            summary.failures.append(f"AUDIT_CHECKPOINT_FILE {path}: {exc.strerror or exc}")
    summary.counts["checkpoints"] += 1
    return summary

"""What every job shares: its summary, and running one batch in its own transaction.

A job's unit of work is a *batch*: one recipient's letter with the case
changes it stands for. Each batch commits on its own, so one that fails (a
renderer error, a database conflict) is rolled back whole, logged and counted,
and the other batches stand; its cases are untouched and are taken again by
the next run.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from casemgr.notices.locks import try_lock
from casemgr.notices.reminders import flag_cases

log = logging.getLogger("casemgr.jobs")


@dataclass
class JobSummary:
    """What one run of a job did, for the log line, the CLI and the tests."""

    job: str
    now: datetime
    letters: dict[str, list[str]] = field(default_factory=dict)  # kind -> references
    cases: int = 0  # cases covered by the letters made
    counts: Counter[str] = field(default_factory=Counter)  # alerts, busy, needs_provider, ...
    failures: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def letter_count(self) -> int:
        return sum(len(refs) for refs in self.letters.values())

    def add_letter(self, kind: str, reference: str, cases: int) -> None:
        self.letters.setdefault(kind, []).append(reference)
        self.cases += cases

    def line(self) -> str:
        """One line: ``notices as of 2026-...: 2 letters (notice 2), 5 cases; 0 failed``."""
        kinds = ", ".join(f"{kind} {len(refs)}" for kind, refs in sorted(self.letters.items()))
        parts = [f"{self.letter_count} letters" + (f" ({kinds})" if kinds else "")]
        parts.append(f"{self.cases} cases")
        parts.extend(f"{name} {value}" for name, value in sorted(self.counts.items()) if value)
        parts.append(f"{self.failed} failed")
        return f"{self.job} as of {self.now.isoformat()}: " + "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "now": self.now.isoformat(),
            "letters": self.letters,
            "cases": self.cases,
            "counts": dict(self.counts),
            "failures": self.failures,
        }


def run_batch(
    session: Session,
    summary: JobSummary,
    *,
    label: str,
    lock: tuple[str, int] | None,
    work: Callable[[], Any],
) -> Any:
    """Run ``work`` in a transaction of its own and commit it.

    ``lock`` (job, key) is taken first with ``pg_try_advisory_xact_lock``: if
    another process holds it, the batch is skipped and counted as ``busy``.
    On an exception the transaction is rolled back, the error logged and
    added to ``summary.failures``; None is returned.
    """
    try:
        if lock is not None and not try_lock(session, *lock):
            session.rollback()
            summary.counts["busy"] += 1
            log.info("%s: %s is being handled by another process", summary.job, label)
            return None
        result = work()
        session.commit()
        return result
    except Exception as exc:
        session.rollback()
        log.exception("%s: %s failed and was rolled back", summary.job, label)
        summary.failures.append(f"{label}: {type(exc).__name__}: {exc}")
        return None


def flag_orphans(
    session: Session,
    summary: JobSummary,
    case_ids: list[int],
    *,
    kind: str,
    label: str,
    now: datetime,
) -> None:
    """Cases a job cannot write to anybody: count them as ``kind`` and raise
    one alert for supervisors, in a batch of their own."""
    if not case_ids:
        return
    summary.counts[kind] += len(case_ids)
    flagged = run_batch(
        session,
        summary,
        label=label,
        lock=None,
        work=lambda: flag_cases(session, case_ids, kind=kind, now=now),
    )
    if flagged:
        summary.counts["alerts"] += flagged[1]

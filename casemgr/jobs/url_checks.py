"""The removal check run: HEAD requests to the URLs of cases waiting for removal.

Off unless ``URL_CHECKS_ENABLED`` (docs/removal-check.md): then the run does
nothing and says so, and the scheduler does not even start it.

A run takes the cases due for a check (``casemgr.checks.queries.due_for_check``:
waiting for removal, no police hold, no removal reported, not checked for
``URL_CHECK_INTERVAL_HOURS``; at most ``URL_CHECK_PER_HOST`` per host and
``URL_CHECK_MAX_PER_RUN`` in all) and checks them ``URL_CHECK_BATCH`` at a
time: the requests run in a small thread pool (``URL_CHECK_WORKERS``), one
host per thread, one request at a time per host; then, in this thread, the
results are recorded and the batch commits. No transaction is open while
requests wait on the network. When a case's last ``URL_CHECK_CONFIRMATIONS``
checks all found it gone or its host unresolvable, the run takes
``report_removal`` (source "check", removed at the first of those checks) in
a savepoint of its own, so a case that moved on meanwhile fails alone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.cases.models import Case
from casemgr.checks import services
from casemgr.checks.models import UrlCheck
from casemgr.checks.probe import ProbeResult, ProbeSettings, Resolver, probe
from casemgr.checks.queries import Due, due_for_check, recent_checks
from casemgr.database import savepoint
from casemgr.jobs.base import JobSummary, run_batch
from casemgr.settings import Timings

NAME = "url_checks"
# Where a test or a deployment puts its own resolver (host -> addresses).
RESOLVER_KEY = "casemgr.checks.resolver"
log = logging.getLogger("casemgr.jobs")


@dataclass
class UrlCheckSummary(JobSummary):
    disabled: bool = False
    due: int = 0  # cases due for a check, before the per-host and per-run bounds
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def checked(self) -> int:
        return sum(self.outcomes.values())

    def line(self) -> str:
        head = f"{self.job} as of {self.now.isoformat()}: "
        if self.disabled:
            return head + (
                "disabled: URL_CHECKS_ENABLED is False, nothing was checked "
                "(see docs/removal-check.md before turning it on)"
            )
        found = ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items()))
        parts = [f"{self.checked} checked" + (f" ({found})" if found else "")]
        parts.append(f"{self.counts['reported']} removals reported")
        parts.append(f"{self.counts['outcome_changes']} outcome changes")
        parts.append(f"{max(0, self.due - self.checked)} left for a later run")
        parts.append(f"{self.failed} failed")
        return head + "; ".join(parts)


@dataclass(frozen=True)
class CheckRun:
    """The job's settings, read from the configuration once."""

    probe: ProbeSettings
    interval: timedelta
    per_host: int
    batch: int
    max_per_run: int
    workers: int
    confirmations: int
    timings: Timings

    @classmethod
    def from_app(cls, app: Flask, *, resolver: Resolver | None = None) -> CheckRun:
        config = app.config
        return cls(
            probe=ProbeSettings.from_config(
                config, resolver=resolver or app.extensions.get(RESOLVER_KEY)
            ),
            interval=timedelta(hours=float(config["URL_CHECK_INTERVAL_HOURS"])),
            per_host=max(1, int(config["URL_CHECK_PER_HOST"])),
            batch=max(1, int(config["URL_CHECK_BATCH"])),
            max_per_run=max(0, int(config["URL_CHECK_MAX_PER_RUN"])),
            workers=max(1, int(config["URL_CHECK_WORKERS"])),
            confirmations=max(1, int(config["URL_CHECK_CONFIRMATIONS"])),
            timings=app.extensions["casemgr.timings"],
        )


def run(
    session: Session, now: datetime, app: Flask, *, resolver: Resolver | None = None
) -> UrlCheckSummary:
    """Run as of ``now`` with the settings of ``app``; ``resolver`` replaces DNS."""
    summary = UrlCheckSummary(NAME, now)
    if not app.config.get("URL_CHECKS_ENABLED", False):
        summary.disabled = True
        return summary
    return check_all(session, now, CheckRun.from_app(app, resolver=resolver), summary)


def check_all(
    session: Session, now: datetime, settings: CheckRun, summary: UrlCheckSummary
) -> UrlCheckSummary:
    picks, summary.due = due_for_check(
        session,
        now,
        interval=settings.interval,
        per_host=settings.per_host,
        limit=settings.max_per_run,
    )
    session.commit()  # the reading is done: no transaction waits on the network
    if not picks:
        return summary
    with ThreadPoolExecutor(
        max_workers=settings.workers, thread_name_prefix="casemgr-check"
    ) as pool:
        for batch in _chunks(picks, settings.batch):
            results = probe_batch(pool, batch, settings.probe)
            done = run_batch(
                session,
                summary,
                label=f"checks of cases {batch[0].case_id}..{batch[-1].case_id}",
                lock=None,
                work=lambda results=results: record_batch(session, results, now, settings, summary),
            )
            if done is not None:  # committed: count it
                outcomes, changes, reported = done
                for outcome, count in outcomes.items():
                    summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + count
                summary.counts["outcome_changes"] += changes
                summary.counts["reported"] += reported
    return summary


def probe_batch(
    pool: ThreadPoolExecutor, batch: Sequence[Due], settings: ProbeSettings
) -> dict[int, ProbeResult]:
    """Check a batch: hosts in parallel, each host's URLs one after the other."""
    by_host: dict[str, list[Due]] = defaultdict(list)
    for due in batch:
        by_host[due.host].append(due)

    def check_host(dues: list[Due]) -> list[tuple[int, ProbeResult]]:
        return [(due.case_id, probe(due.url, settings)) for due in dues]

    results: dict[int, ProbeResult] = {}
    for found in pool.map(check_host, by_host.values()):
        results.update(found)
    return results


def record_batch(
    session: Session,
    results: dict[int, ProbeResult],
    now: datetime,
    settings: CheckRun,
    summary: UrlCheckSummary,
) -> tuple[dict[str, int], int, int]:
    """Record a batch's results (in this thread, the job's session); the caller commits.

    Returns the count of each outcome, of outcome changes and of removals reported."""
    ids = sorted(results)
    cases = {case.id: case for case in session.scalars(select(Case).where(Case.id.in_(ids)))}
    history = recent_checks(session, ids, limit=max(1, settings.confirmations - 1))
    tally: dict[str, int] = defaultdict(int)
    changes = reported = 0
    confirmed: list[tuple[Case, list[UrlCheck]]] = []
    for case_id in ids:
        case = cases.get(case_id)
        if case is None:  # deleted since it was read
            continue
        result = results[case_id]
        recorded = services.record_result(
            session,
            case,
            result,
            now=now,
            previous=history[case_id],
            confirmations=settings.confirmations,
        )
        tally[result.outcome.value] += 1
        changes += int(recorded.changed)
        if recorded.confirmed:
            agreeing = [recorded.check, *history[case_id]][: settings.confirmations]
            confirmed.append((case, agreeing))
    session.flush()
    for case, agreeing in confirmed:
        first = min(check.checked_at for check in agreeing)
        try:
            with savepoint(session):
                services.report_removal(session, case, first, now=now, timings=settings.timings)
        except Exception as exc:
            log.warning("%s: report_removal on case %s failed: %s", NAME, case.reference, exc)
            summary.failures.append(f"report_removal on {case.reference}: {exc}")
        else:
            reported += 1
    return dict(tally), changes, reported


def _chunks(items: Sequence[Due], size: int) -> Iterator[Sequence[Due]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

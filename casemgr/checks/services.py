"""Recording what a check found on a case, and reporting a removal the checks confirm.

Flush, never commit: the job commits once per batch. Nothing here closes a
case: repeated findings take the workflow action ``report_removal`` (source
"check"), and an analyst verifies it with ``confirm_takedown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from casemgr.cases.models import Case
from casemgr.cases.services import apply_action, record_event
from casemgr.cases.states import AWAITING_REMOVAL, Action, RemovalSource
from casemgr.checks.models import UrlCheck
from casemgr.checks.probe import CONFIRMING, ProbeResult
from casemgr.domain import SYSTEM_ACTOR
from casemgr.settings import Timings

EVENT = "removal_check"  # in the case's history when the outcome changes


@dataclass(frozen=True)
class Recorded:
    check: UrlCheck
    changed: bool  # the outcome differs from the previous check's: an event was recorded
    confirmed: bool  # the last checks agree the URL is gone: report_removal is due


def record_result(
    session: Session,
    case: Case,
    result: ProbeResult,
    *,
    now: datetime,
    previous: list[UrlCheck],
    confirmations: int,
) -> Recorded:
    """Store ``result`` as the case's newest check; ``previous`` are its latest
    checks before it, newest first (at least ``confirmations - 1`` of them).

    An event goes into the case's history only when the outcome changes (the
    first check counts as a change), and only while the case still waits for
    removal; so does a confirmation.
    """
    check = UrlCheck(
        case_id=case.id,
        checked_at=now,
        outcome=result.outcome.value,
        status_code=result.status_code,
        final_location=result.final_location,
        redirects=result.redirects,
        error=result.error,
    )
    session.add(check)
    if not waiting_for_removal(case):
        return Recorded(check, changed=False, confirmed=False)
    changed = not previous or previous[0].outcome != check.outcome
    if changed:
        record_event(
            session,
            case,
            EVENT,
            actor=SYSTEM_ACTOR,
            now=now,
            fields={"status_code": result.status_code, "outcome": result.outcome.value},
        )
    latest = [check, *previous][: max(1, confirmations)]
    confirmed = len(latest) == max(1, confirmations) and all(
        c.outcome in CONFIRMING for c in latest
    )
    return Recorded(check, changed, confirmed)


def report_removal(
    session: Session, case: Case, first_seen_gone: datetime, *, now: datetime, timings: Timings
) -> None:
    """Take ``report_removal`` for the checks: removed at the first of the
    agreeing checks; the case waits for an analyst to verify it."""
    apply_action(
        session,
        case,
        Action.REPORT_REMOVAL.value,
        {"removed_at": first_seen_gone.isoformat(), "source": RemovalSource.CHECK.value},
        actor=SYSTEM_ACTOR,
        now=now,
        timings=timings,
    )


def waiting_for_removal(case: Case) -> bool:
    return (
        case.status in AWAITING_REMOVAL
        and case.removal_reported_at is None
        and not case.police_hold
    )

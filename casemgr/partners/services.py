"""Queueing a forwarded case for a partner's API, and recording what the partner says.

Nothing here talks to the network (that is :mod:`casemgr.partners.client`,
driven by the ``partners`` job); these functions flush, never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.cases.labels import CLASSIFICATION
from casemgr.cases.models import Case
from casemgr.cases.services import apply_action, record_event
from casemgr.cases.states import Action, Attention, RemovalSource, Resolution, Status
from casemgr.clock import parse_iso
from casemgr.directory.models import Organisation
from casemgr.domain import SYSTEM_ACTOR
from casemgr.partners.models import DELIVERED, MAX_ERROR_LENGTH, QUEUED, PartnerLink
from casemgr.settings import Timings

STATUSES = frozenset(s.value for s in Status)
RESOLUTIONS = frozenset(r.value for r in Resolution)


def queue_delivery(session: Session, case: Case, *, now: datetime) -> PartnerLink | None:
    """Queue ``case`` for its partner's API, if the partner takes cases that way.

    A case forwarded again (to the same or another partner) is queued afresh:
    the partner's intake is idempotent on our reference, so sending it twice
    makes one case there."""
    partner = session.get(Organisation, case.partner_id) if case.partner_id else None
    if partner is None or not partner.forwards_by_api:
        return None
    link = session.scalar(select(PartnerLink).where(PartnerLink.case_id == case.id))
    if link is None:
        link = PartnerLink(case_id=case.id, created_at=now)
        session.add(link)
    elif link.partner_id == partner.id and link.state == DELIVERED:
        return link  # already there: keep polling it
    link.partner_id = partner.id
    link.state, link.attempts, link.next_attempt_at, link.last_error = QUEUED, 0, now, None
    for name in ("remote_submission", "remote_case_id", "remote_case_reference"):
        setattr(link, name, None)
    link.remote_status = link.remote_resolution = link.remote_removed_at = None
    link.status_learned_at = link.last_polled_at = link.delivered_at = None
    session.flush()
    return link


def report_payload(case: Case, hotline_name: str) -> dict[str, Any]:
    """What crosses the wire for ``case``: its URL and a structured note of our
    own findings. Never the reporter's description, contact or language."""
    classification = case.classification or "unassessed"
    words = CLASSIFICATION.get(classification, classification)
    lines = [
        f"Our reference: {case.reference}",
        f"Classification: {words} ({classification})",
        f"Hosting country: {case.hosting_country or 'unknown'}",
        f"Hosting IP: {case.hosting_ip or 'unknown'}",
        f"Host: {case.host}",
        f"Forwarded by {hotline_name}",
    ]
    return {
        "urls": [case.url],
        "description": "\n".join(str(line) for line in lines),
        "source": "partner",
        "external_reference": case.reference,
    }


def record_failure(link: PartnerLink, message: str) -> None:
    link.last_error = message[:MAX_ERROR_LENGTH]


def record_delivery(link: PartnerLink, remote: dict[str, Any], *, now: datetime) -> None:
    """The partner took the case: its submission and case (checked by the caller)."""
    link.state, link.delivered_at, link.last_error, link.next_attempt_at = (
        DELIVERED,
        now,
        None,
        None,
    )
    link.remote_submission = remote["submission"]
    link.remote_case_id = remote["case_id"]
    link.remote_case_reference = remote["case_reference"]
    link.remote_status = remote["status"]
    link.status_learned_at = now


def apply_remote_status(
    session: Session,
    link: PartnerLink,
    case: Case,
    remote: dict[str, Any],
    *,
    partner: Organisation,
    now: datetime,
    timings: Timings,
) -> str | None:
    """Record the partner's status of its case on ours; act when it closed.

    ``remote`` is checked already (status, resolution, removed_at). Returns
    the action taken on our case, "event" when only the change was recorded,
    or None when nothing changed."""
    link.last_polled_at, link.last_error = now, None
    status, resolution = remote["status"], remote["resolution"]
    removed_at: datetime | None = remote["removed_at"]
    if (status, resolution) == (link.remote_status, link.remote_resolution):
        return None
    link.remote_status, link.remote_resolution = status, resolution
    link.remote_removed_at, link.status_learned_at = removed_at, now
    by = {"by": partner.name, "partner_reference": link.remote_case_reference}
    record_event(
        session,
        case,
        "partner_status",
        actor=SYSTEM_ACTOR,
        now=now,
        fields=by | {"status": status, "resolution": resolution},
    )
    if status != Status.CLOSED or case.status != Status.FORWARDED:
        return "event"
    if case.partner_id != link.partner_id:
        return "event"  # forwarded elsewhere since
    if resolution == Resolution.TAKEDOWN_CONFIRMED:
        # The partner's clock is not ours: its time kept within what our
        # workflow accepts (after the report came to us, not in the future).
        when = min(removed_at or remote["closed_at"] or now, now)
        when = max(when, case.received_at)
        fields = {"removed_at": when.isoformat(), "source": RemovalSource.PARTNER.value}
        if partner.trust_removal_reports:
            action = Action.ACCEPT_REPORTED_REMOVAL
        elif case.removal_reported_at is None:
            action = Action.REPORT_REMOVAL
        else:
            return "event"
    else:
        action = Action.DECLINE_NOTICE
        fields = {"answer": Attention.PARTNER_CLOSED.value}
    apply_action(
        session,
        case,
        action.value,
        fields,
        actor=SYSTEM_ACTOR,
        now=now,
        timings=timings,
        extra=by | {"resolution": resolution},
    )
    return action.value


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time of the partner's, or None; ValueError for anything else."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a time that is not text")
    return parse_iso(value)

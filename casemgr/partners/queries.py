"""Reading partner links: the case page's, the case API's, the queue's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from casemgr.cases.models import Case
from casemgr.cases.states import Resolution, Status
from casemgr.directory.models import Organisation
from casemgr.partners.models import DELIVERED, PartnerLink


def link_for_case(session: Session, case_id: int) -> dict | None:
    """The case page's partner box: the partner, its case and latest status; None
    when the case was never forwarded over an API."""
    return links_for_cases(session, [case_id]).get(case_id)


def links_for_cases(session: Session, case_ids: Sequence[int]) -> dict[int, dict]:
    """The partner link of each of ``case_ids`` that has one, in one query."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(PartnerLink, Organisation.name)
        .join(Organisation, Organisation.id == PartnerLink.partner_id)
        .where(PartnerLink.case_id.in_(list(case_ids)))
    ).all()
    return {
        link.case_id: {
            "partner_id": link.partner_id,
            "partner": name,
            "delivery": link.state,
            "attempts": link.attempts,
            "next_attempt_at": link.next_attempt_at,
            "last_error": link.last_error,
            "reference": link.remote_case_reference,
            "submission": link.remote_submission,
            "status": link.remote_status,
            "resolution": link.remote_resolution,
            "removed_at": link.remote_removed_at,
            "delivered_at": link.delivered_at,
            "status_learned_at": link.status_learned_at,
            "last_polled_at": link.last_polled_at,
        }
        for link, name in rows
    }


def partner_says_removed() -> ColumnElement[bool]:
    """The queue's "forwarded, partner says removed": our case is still open."""
    return (
        select(PartnerLink.id)
        .where(
            PartnerLink.case_id == Case.id,
            PartnerLink.remote_status == Status.CLOSED,
            PartnerLink.remote_resolution == Resolution.TAKEDOWN_CONFIRMED,
        )
        .exists()
    )


def no_news_since(moment: datetime) -> ColumnElement[bool]:
    """The queue's "forwarded, no news for N days": a forwarded case whose
    partner has told us nothing new since ``moment`` (or was never reached)."""
    learned = func.coalesce(PartnerLink.status_learned_at, PartnerLink.created_at)
    return and_(
        Case.status == Status.FORWARDED,
        select(PartnerLink.id).where(PartnerLink.case_id == Case.id, learned <= moment).exists(),
    )


def no_news_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


__all__ = ["DELIVERED", "link_for_case", "links_for_cases", "no_news_since", "partner_says_removed"]

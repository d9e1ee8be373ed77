"""Writing and searching the audit log. Callers pass the session and the time; they commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from casemgr.audit import chain
from casemgr.audit.models import AuditEntry
from casemgr.paging import Page


def record(
    session: Session,
    *,
    action: str,
    now: datetime,
    actor_id: int | None = None,
    target_type: str | None = None,
    target_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Log ``action``; the entry is written when ``session`` commits, in the same
    transaction as what it records, and is dropped if the session rolls back.

    ``details`` must be JSON-serialisable (other values are stored as text).
    """
    entry = AuditEntry(
        created_at=now,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:64],
        details=chain.canonical(details or {}),
    )
    chain.queue(session, entry)
    return entry


# --- searching (the admin screen)


@dataclass
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None  # an exact action, or a prefix ending in "." ("auth.")
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def search(session: Session, filters: AuditFilter, *, page: int = 1, per_page: int = 50) -> Page:
    """Entries matching ``filters``, newest first."""
    statement = select(AuditEntry)
    if filters.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == filters.actor_id)
    if filters.action:
        if filters.action.endswith("."):
            statement = statement.where(
                AuditEntry.action.startswith(filters.action, autoescape=True)
            )
        else:
            statement = statement.where(AuditEntry.action == filters.action)
    if filters.target_type:
        statement = statement.where(AuditEntry.target_type == filters.target_type)
    if filters.target_id:
        statement = statement.where(AuditEntry.target_id == filters.target_id)
    if filters.since is not None:
        statement = statement.where(AuditEntry.created_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(AuditEntry.created_at < filters.until)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = session.scalars(
        statement.options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), total, page, per_page)


def actions(session: Session) -> list[str]:
    """Every action name in the log, for the screen's filter."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))

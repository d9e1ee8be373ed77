"""Raising, listing and resolving supervisors' alerts.

Raising is idempotent: each alert has a ``key`` naming what it is about, and a
job that runs twice (or on two servers at once) raises it once.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from casemgr.alerts.models import Alert
from casemgr.audit.services import record
from casemgr.database import dialect_insert, get_or_raise
from casemgr.domain import Actor
from casemgr.errors import Conflict


def raise_alert(
    session: Session,
    *,
    kind: str,
    key: str,
    message: str,
    now: datetime,
    case_id: int | None = None,
    notice_id: int | None = None,
) -> int:
    """Raise the alert ``key`` unless it was raised before; 1 if raised, else 0.

    INSERT ... ON CONFLICT DO NOTHING: two processes raising the same alert
    at once make one, and neither fails.
    """
    result = session.execute(
        dialect_insert(session)(Alert)
        .values(
            kind=kind,
            key=key[:200],
            message=message,
            case_id=case_id,
            notice_id=notice_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Alert.id)
    )
    return 1 if result.first() is not None else 0


def open_alert_count(session: Session) -> int:
    return session.scalar(select(func.count(Alert.id)).where(Alert.resolved_at.is_(None))) or 0


def list_alerts(session: Session, *, resolved: bool = False, limit: int = 200) -> list[Alert]:
    """Open alerts, oldest first; or the latest resolved ones."""
    statement = select(Alert).options(
        selectinload(Alert.case), selectinload(Alert.notice), selectinload(Alert.resolved_by)
    )
    if resolved:
        statement = statement.where(Alert.resolved_at.is_not(None)).order_by(
            Alert.resolved_at.desc(), Alert.id.desc()
        )
    else:
        statement = statement.where(Alert.resolved_at.is_(None)).order_by(
            Alert.created_at, Alert.id
        )
    return list(session.scalars(statement.limit(limit)).all())


def resolve_alert(session: Session, alert_id: int, *, actor: Actor, now: datetime) -> Alert:
    """Mark an alert dealt with (audited); raises NotFound, Conflict."""
    alert = get_or_raise(session, Alert, alert_id, what="alert")
    if alert.resolved_at is not None:
        raise Conflict(gettext("this alert was resolved already"))
    alert.resolved_at = now
    alert.resolved_by_id = actor.id
    record(
        session,
        action="alert.resolve",
        now=now,
        actor_id=actor.id,
        target_type="alert",
        target_id=alert.id,
        details={"kind": alert.kind, "key": alert.key},
    )
    session.flush()
    return alert

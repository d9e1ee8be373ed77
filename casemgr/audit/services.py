"""Writing the audit log. Callers pass the session and the time; they commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from casemgr.audit.models import AuditEntry


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
    entry = AuditEntry(
        created_at=now,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
    )
    session.add(entry)
    return entry

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.database import Base, UTCDateTime


class AuditEntry(Base):
    """An append-only, hash-chained record of a security-relevant event.

    Sign-ins and their failures, lockouts, second-factor events, every action
    taken on a case, exports, views of a reporter's contact, and changes to
    accounts, settings and the directory. Each entry carries the SHA-256 of
    the one before (``prev_hash``) and its own (``entry_hash``, over its fields
    and ``prev_hash``; see casemgr/audit/chain.py), so a changed, removed or
    inserted row breaks the chain: ``flask audit verify`` names it. The
    database refuses UPDATE and DELETE on the table (triggers, migration 0003).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # No ON DELETE action: an account with audit entries cannot be deleted
    # (accounts are deactivated), and the entry would not change anyway.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    actor = relationship("User", viewonly=True)

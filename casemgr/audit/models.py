from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.database import Base, UTCDateTime


class AuditEntry(Base):
    """An append-only, hash-chained record of a security-relevant event.

    Sign-ins and their failures, lockouts, second-factor events, every action
    taken on a case, exports, views of a reporter's contact, and changes to
    accounts, settings and the directory. Each entry carries the hash of
    the one before (``prev_hash``) and its own (``entry_hash``, over its fields
    and ``prev_hash``: an HMAC under the audit key named by ``key_id``, or a
    plain SHA-256 for entries made before there was a key; see
    casemgr/audit/chain.py), so a changed, removed or inserted row breaks the
    chain: ``flask audit verify`` names it. The database refuses UPDATE and
    DELETE on the table (triggers, migration 0003).
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
    # The audit key the hash was made under (casemgr.audit.keys.key_id); NULL: plain SHA-256.
    key_id: Mapped[str | None] = mapped_column(String(16))

    actor = relationship("User", viewonly=True)


class AuditCheckpoint(Base):
    """The head of the chain at one moment, signed under the audit key.

    Its copies that count are those sent away (the e-mail to
    AUDIT_CHECKPOINT_EMAIL, the line in AUDIT_CHECKPOINT_FILE): this row is
    what the outbox sends and the monthly report quotes. ``line`` is the
    signed text exactly as sent (casemgr/audit/checkpoints.py).
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    entry_id: Mapped[int] = mapped_column(Integer)
    entry_count: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    line: Mapped[str] = mapped_column(Text)

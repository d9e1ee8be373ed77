"""Notifications: what one member of staff should know, read or not yet.

Supervisors' alerts (``casemgr.notices.models.Alert``) are shared work items
that one supervisor resolves for all; a notification is personal and has
its own read state. ``key`` makes notifying idempotent per person: a job
that runs twice, or two at once, notifies once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.cases.models import Case
from casemgr.database import Base, UTCDateTime
from casemgr.notices.models import Notice

KINDS = ("assigned", "overdue", "escalation", "delivery_failed", "provider_reply")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        # The count in the navigation bar and the unread list.
        Index(
            "ix_notifications_unread",
            "user_id",
            "created_at",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
        # "Was this case's overdue step notified already?" (the notifications job).
        Index("ix_notifications_case_step", "case_id", "kind", "step_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="SET NULL"))
    # The moment of the case's life notified (the due time for "overdue").
    step_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case | None] = relationship()
    notice: Mapped[Notice | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.kind} for user {self.user_id}>"

"""Supervisors' alerts: what a job or the outbox could not settle alone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.auth.models import User
from casemgr.cases.models import Case
from casemgr.database import Base, UTCDateTime
from casemgr.notices.models import Notice


class Alert(Base):
    """Something supervisors must look at: an escalation, a police hold to
    review, a case the notice run cannot send. ``key`` makes raising an alert
    idempotent: a job that runs twice raises each alert once."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "ix_alerts_open",
            "created_at",
            postgresql_where=text("resolved_at IS NULL"),
            sqlite_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    message: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    case: Mapped[Case | None] = relationship()
    notice: Mapped[Notice | None] = relationship()
    resolved_by: Mapped[User | None] = relationship()

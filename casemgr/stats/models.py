"""Stored monthly statistics reports.

A :class:`MonthlyReport` is the publishable PDF of one calendar month (no
per-analyst figures), made by the scheduler at the start of the next month or
by a supervisor, and kept byte for byte with its SHA-256 so that what was
published can be proven later. ``month`` is unique: there is one stored
report per month, replaced only when someone makes it again on purpose (see
``casemgr.stats.operations``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.auth.models import User
from casemgr.database import Base, UTCDateTime


class MonthlyReport(Base):
    __tablename__ = "monthly_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The first day of the month the report is about.
    month: Mapped[date] = mapped_column(Date, unique=True)
    # The PDF exactly as made; loaded only when asked for.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # The moment the figures describe (they change as cases of the month are worked).
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who made it; NULL: the scheduler. No ON DELETE SET NULL: a person who made
    # a report must not turn into "the scheduler" (accounts are deactivated, not deleted).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        """``October 2026``."""
        return self.month.strftime("%B %Y")

    @property
    def filename(self) -> str:
        return f"statistics-{self.month.strftime('%Y-%m')}.pdf"

    def __repr__(self) -> str:
        return f"<MonthlyReport {self.month:%Y-%m} {self.sha256[:12]}>"

"""One check of one case's URL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from casemgr.database import Base, UTCDateTime

# What a check found (``probe.Outcome`` says what each means).
OUTCOMES = ("live", "gone", "unresolvable", "other", "too_many_redirects", "error", "refused")
MAX_LOCATION_LENGTH = 2048
MAX_ERROR_LENGTH = 500


class UrlCheck(Base):
    """What one HEAD request (and the redirects it followed) found about a case's URL."""

    __tablename__ = "url_checks"
    __table_args__ = (
        # A case's latest checks (the job's confirmations, the case page, the API),
        # and "checked since" for the job's selection.
        Index("ix_url_checks_case_checked", "case_id", "checked_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))  # one of OUTCOMES
    # The last answer's status code; None when there was no answer.
    status_code: Mapped[int | None] = mapped_column(Integer)
    # Where the redirects led (the last URL asked); None when there was none.
    final_location: Mapped[str | None] = mapped_column(String(MAX_LOCATION_LENGTH))
    redirects: Mapped[int] = mapped_column(Integer, default=0)
    # Why there was no usable answer (error, refused, unresolvable, too many redirects).
    error: Mapped[str | None] = mapped_column(String(MAX_ERROR_LENGTH))

    def __repr__(self) -> str:
        return f"<UrlCheck case {self.case_id} {self.outcome} {self.status_code}>"

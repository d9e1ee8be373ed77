"""A case forwarded to a partner hotline over its API: the delivery and what came back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.database import Base, UTCDateTime
from casemgr.directory.models import Organisation

QUEUED = "queued"
DELIVERED = "delivered"
FAILED = "failed"
STATES = (QUEUED, DELIVERED, FAILED)
MAX_ERROR_LENGTH = 500


class PartnerLink(Base):
    """One case sent to one partner's installation, and the partner's case for it.

    ``state`` is the delivery's: ``queued`` (waiting for its next attempt at
    ``next_attempt_at``), ``delivered`` (the partner answered with its
    submission and case), ``failed`` (given up after the last attempt; a
    supervisors' alert says so). The ``remote_*`` columns are the partner's
    word, as last polled.
    """

    __tablename__ = "partner_links"
    __table_args__ = (
        # The job's two selections: queued rows due, delivered rows by poll age.
        Index("ix_partner_links_state_next", "state", "next_attempt_at"),
        Index("ix_partner_links_state_polled", "state", "last_polled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One link per case: forwarding again to the same partner reuses it.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(MAX_ERROR_LENGTH))
    remote_submission: Mapped[str | None] = mapped_column(String(64))
    remote_case_id: Mapped[int | None] = mapped_column(Integer)
    remote_case_reference: Mapped[str | None] = mapped_column(String(64))
    remote_status: Mapped[str | None] = mapped_column(String(20))
    remote_resolution: Mapped[str | None] = mapped_column(String(30))
    remote_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the partner's status last changed as we learned it; when we last asked.
    status_learned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    partner: Mapped[Organisation] = relationship()

    def __repr__(self) -> str:
        return f"<PartnerLink case {self.case_id} -> {self.partner_id} {self.state}>"

"""Letters: takedown notices, referrals, reminders, escalations.

A :class:`Notice` is one generated PDF letter, stored with its SHA-256 so that
what was sent can be proven later; it is never rendered again. Which cases a
letter covers is in :class:`NoticeCase`, whose unique key (case, kind, step)
is the database's guarantee that no case is covered twice by letters of the
same kind for the same step of its life (see ``casemgr.notices.locks``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.auth.models import User
from casemgr.cases.models import Case
from casemgr.database import Base, UTCDateTime
from casemgr.directory.models import Organisation

KINDS = ("notice", "referral", "reminder", "escalation")
# Who an escalation goes to when no police contact is set on the case.
SUPERVISORS = "supervisors"


class Notice(Base):
    """One letter as generated and sent: the PDF bytes and what they were sent to.

    The recipient is kept twice: ``recipient_id`` points at the directory (it
    becomes NULL if the organisation is deleted), and ``recipient_*`` hold a
    snapshot of name, e-mail and address as they were when the letter was
    made. A letter without an e-mail address needs ``manual_delivery``.
    ``sent_at`` is set when the letter is delivered (by the outbox, or by a
    supervisor who delivered it by hand); ``exported_at`` by the last export.
    """

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # An organisation kind (hosting_provider, hotline, police) or "supervisors".
    recipient_kind: Mapped[str] = mapped_column(String(30))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    recipient_address: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    manual_delivery: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the letter prints as the original notice(s) it follows up.
    previous_reference: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_count: Mapped[int] = mapped_column(Integer)
    # The PDF exactly as sent; loaded only when asked for.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who marked a manual delivery done; NULL when the outbox delivered it.
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[Organisation | None] = relationship()
    sent_by: Mapped[User | None] = relationship()
    links: Mapped[list[NoticeCase]] = relationship(
        back_populates="notice",
        foreign_keys="NoticeCase.notice_id",
        order_by="NoticeCase.case_id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def filename(self) -> str:
        return f"{self.reference}-{self.kind}.pdf"

    @property
    def delivery(self) -> str:
        """``sent``, ``manual`` (waiting for someone to deliver it by hand) or ``queued``."""
        if self.sent_at is not None:
            return "sent"
        return "manual" if self.manual_delivery else "queued"

    def __repr__(self) -> str:
        return f"<Notice {self.reference} {self.kind}>"


class NoticeCase(Base):
    """A case covered by a letter: one row of the letter's table of URLs.

    ``step_at`` names the moment of the case's life the letter answers: the
    notice request for a notice, the forwarding or referral for a referral,
    the due time served for a reminder or an escalation. Two runs that see a
    case in the same state compute the same (case, kind, step) key, and the
    unique constraint lets only one of them commit its letter.
    """

    __tablename__ = "notice_cases"
    __table_args__ = (UniqueConstraint("case_id", "kind", "step_at", name="uq_notice_cases_step"),)

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    # RESTRICT: a case that letters were sent about is never deleted from under them.
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="RESTRICT"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    step_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # For reminders and escalations: the notice or referral this line follows up.
    follows_id: Mapped[int | None] = mapped_column(
        ForeignKey("notices.id", ondelete="SET NULL"), index=True
    )

    notice: Mapped[Notice] = relationship(back_populates="links", foreign_keys=[notice_id])
    case: Mapped[Case] = relationship()
    follows: Mapped[Notice | None] = relationship(foreign_keys=[follows_id])

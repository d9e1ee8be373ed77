"""Mail that came in: one row per message (by Message-ID), and the cases it is about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.auth.models import User
from casemgr.cases.models import Case
from casemgr.database import Base, UTCDateTime
from casemgr.notices.models import Notice

# What a message is.
REPLY = "reply"  # a person's answer
AUTO_REPLY = "auto_reply"  # an out-of-office, a ticket system's receipt: recorded, nobody notified
BOUNCE = "bounce"  # a delivery status notification about one of our messages
KINDS = (REPLY, AUTO_REPLY, BOUNCE)

# Where it stands.
MATCHED = "matched"  # threaded into the cases of the letter it answers
UNMATCHED = "unmatched"  # waits in the supervisors' list
ATTACHED = "attached"  # a supervisor attached it to a case
DISCARDED = "discarded"  # a supervisor discarded it (the text is kept, for the record)
STATES = (MATCHED, UNMATCHED, ATTACHED, DISCARDED)

# How it was matched.
BY_HEADER = "header"  # In-Reply-To / References named a Message-ID we sent
BY_NOTICE_REFERENCE = "notice_reference"  # the subject named a letter
BY_CASE_REFERENCE = "case_reference"  # the subject named a case
BY_BOUNCE = "bounce"  # the returned headers named a Message-ID we sent
BY_HAND = "manual"  # a supervisor attached it


class InboundMail(Base):
    """One message received, as much of it as may be kept: headers, text, and
    a description of each attachment. Never an attachment's bytes."""

    __tablename__ = "inbound_mails"
    __table_args__ = (Index("ix_inbound_mails_state_received", "state", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "<...>" as sent, or "<sha256-...@casemgr.invalid>" for a message without
    # one (the SHA-256 of its bytes): the same message is stored once.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    from_address: Mapped[str] = mapped_column(String(254), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    # The Date header (None when missing or unreadable).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    matched_by: Mapped[str | None] = mapped_column(String(20))
    # The text kept (plain text, or HTML made text), control characters removed, capped.
    text: Mapped[str] = mapped_column(Text, default="")
    text_truncated: Mapped[bool] = mapped_column(default=False)
    # [{"name", "type", "size", "sha256"}, ...]: every attachment dropped.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)  # of the raw message, bytes
    # A bounce: the outbox message it reports as undelivered.
    bounced_outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    # A supervisor's decision on unmatched mail.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    links: Mapped[list[InboundMailCase]] = relationship(
        back_populates="mail", cascade="all, delete-orphan", passive_deletes=True
    )
    decided_by: Mapped[User | None] = relationship()

    @property
    def sender(self) -> str:
        if self.from_name and self.from_address:
            return f"{self.from_name} <{self.from_address}>"
        return self.from_address or self.from_name

    def __repr__(self) -> str:
        return f"<InboundMail {self.id} {self.kind} {self.state}>"


class InboundMailCase(Base):
    """A case a message is about, and the letter it answered (if known)."""

    __tablename__ = "inbound_mail_cases"

    mail_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_mails.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="SET NULL"))

    mail: Mapped[InboundMail] = relationship(back_populates="links")
    case: Mapped[Case] = relationship()
    notice: Mapped[Notice | None] = relationship()

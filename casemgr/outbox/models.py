"""The outbox: one row per e-mail to send, with its delivery state.

A row is written in the transaction that made what it sends (a letter by
``casemgr.notices.letters.store_letter``, a reporter's feedback by the
closing of the last case of a submission), so a message is never lost
between "made" and "queued". The delivery job (``casemgr.jobs.outbox``)
moves it on; see the package, ``casemgr.outbox``, for the states and
the guarantees.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.audit.models import AuditCheckpoint  # noqa: F401 - the table of checkpoint_id
from casemgr.cases.models import Submission
from casemgr.database import Base, UTCDateTime
from casemgr.notices.models import Notice

KINDS = ("letter", "feedback", "audit_checkpoint")

QUEUED = "queued"  # waiting for its next attempt (next_attempt_at)
SENDING = "sending"  # claimed by a job process until lease_expires_at
SENT = "sent"  # the server answered 250 to the end of the message
FAILED = "failed"  # refused for good, or out of attempts: a supervisor decides
UNKNOWN = "unknown"  # handed to the server, no answer: it may have been delivered
CANCELLED = "cancelled"  # not to be sent (delivered by hand instead, no e-mail address)
STATUSES = (QUEUED, SENDING, SENT, FAILED, UNKNOWN, CANCELLED)
NEEDS_ATTENTION = (FAILED, UNKNOWN)


class OutboxMessage(Base):
    """One e-mail: a letter (its PDF attached) or a reporter's feedback (no attachment).

    The recipient of a letter is the organisation's address, in clear (the
    letter stores it too); a reporter's address is kept encrypted with the
    contact key (``sealed_recipient``) and erased once the message is sent
    or given up.

    ``message_id`` is made once, committed before the first attempt and used
    by every attempt, so a receiving system can recognise a message sent
    twice. ``handed_over_at`` is committed just before the message itself
    goes to the server: a row found ``sending`` after its lease expired with
    it unset was certainly not delivered; with it set, it may have been.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The job's next rows: queued ones whose attempt is due, oldest first.
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        # Claims whose lease may have expired.
        Index(
            "ix_outbox_messages_leased",
            "lease_expires_at",
            postgresql_where=text("status = 'sending'"),
            sqlite_where=text("status = 'sending'"),
        ),
        Index("ix_outbox_messages_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # One row per letter and one per submission: enqueuing twice is refused by the database.
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), unique=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    # An audit log checkpoint sent to AUDIT_CHECKPOINT_EMAIL (casemgr/jobs/audit_checkpoint.py).
    checkpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_checkpoints.id", ondelete="CASCADE"), unique=True
    )
    recipient: Mapped[str | None] = mapped_column(String(254))
    sealed_recipient: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The language of the message; NULL: the configured default.
    language: Mapped[str | None] = mapped_column(String(10))

    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Times a supervisor sent it again by hand (a new series of attempts each).
    manual_retries: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The Date header: fixed with the Message-ID, so every attempt sends the same message.
    message_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The server's answer to the accepted message (often its queue id): the proof of hand-over.
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipient_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notice: Mapped[Notice | None] = relationship()
    submission: Mapped[Submission | None] = relationship()

    @property
    def reference(self) -> str:
        """The letter's or the submission's reference."""
        if self.notice is not None:
            return self.notice.reference
        if self.submission is not None:
            return self.submission.reference
        if self.checkpoint_id is not None:
            return f"audit checkpoint {self.checkpoint_id}"
        return f"#{self.id}"

    @property
    def recipient_label(self) -> str:
        """Who it goes to, as staff may see it: never a reporter's address."""
        if self.kind == "feedback":
            return "the reporter"
        name = self.notice.recipient_name if self.notice is not None else ""
        return f"{name} <{self.recipient}>" if name else (self.recipient or "")

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"

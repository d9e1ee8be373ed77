"""A submission's receipt (its code's hash) and the messages about it.

Both belong to a Submission of the public form; neither holds anything in
clear that would identify the reporter or let someone in with the code.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.auth.models import User
from casemgr.database import Base, UTCDateTime

REPORTER = "reporter"
STAFF = "staff"


class SubmissionReceipt(Base):
    """The receipt code of a public submission: its selector in clear (indexed,
    unique) and its verifier as a scrypt hash with its own salt (codes.py)."""

    __tablename__ = "submission_receipts"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    selector: Mapped[str] = mapped_column(String(8), unique=True)
    verifier_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReporterMessage(Base):
    """A message on a submission: the reporter's (added with the code on
    /status) or a question from staff. The text is encrypted with the contact
    cipher, shown to staff through the audited reveal, and deleted with the
    contact details by the retention job."""

    __tablename__ = "reporter_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(String(10))  # REPORTER or STAFF
    # Encrypted (context.cipher()), never in clear.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # Who asked, for staff questions: never shown to the reporter.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship()

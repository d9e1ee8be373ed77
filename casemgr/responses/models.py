"""A letter's response link, and the answers given behind it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.cases.models import Case
from casemgr.database import Base, UTCDateTime
from casemgr.notices.models import Notice

ANSWERS = ("removed", "not_hosted", "cannot_remove", "need_information")


class ResponseLink(Base):
    """The response link of one letter.

    The link's token is never stored: it is an HMAC, under the app's secret
    key, of ``nonce`` (see :mod:`casemgr.responses.links`), so the outbox can
    print it again in the e-mail while a copy of the database alone cannot
    produce it. ``token_hash`` (SHA-256 of the token) finds the link when
    it is used. A link stops working at ``expires_at``, or when a later
    letter about the same cases supersedes it (``superseded_at``).
    """

    __tablename__ = "response_links"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("notices.id", ondelete="SET NULL")
    )

    notice: Mapped[Notice] = relationship(foreign_keys=[notice_id])


class ProviderResponse(Base):
    """One answer about one URL of a letter, as the provider gave it."""

    __tablename__ = "provider_responses"
    __table_args__ = (Index("ix_provider_responses_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # The organisation the letter went to, as named in the letter.
    organisation_name: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(String(20))  # one of ANSWERS
    # "removed": when, if the provider said; else when it answered.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "not_hosted": who hosts it, if the provider said.
    hosted_by: Mapped[str | None] = mapped_column(String(500))
    # "cannot_remove": the reason; "need_information": the question.
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    notice: Mapped[Notice] = relationship()
    case: Mapped[Case] = relationship()

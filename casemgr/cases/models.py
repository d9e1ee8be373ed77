from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.auth.models import User
from casemgr.cases.states import Status
from casemgr.cases.workflow import CaseFacts
from casemgr.database import Base, UTCDateTime
from casemgr.directory.models import Organisation

_OPEN = text("status <> 'closed'")


class Submission(Base):
    """One report as it arrived: from the public, a partner, or staff by hand.

    Each URL in it became its own Case; they share the submission reference.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        # A partner retrying with the same external reference gets the first
        # submission back instead of a second one.
        UniqueConstraint("submitted_by_id", "external_reference"),
        # The reports received in a period (statistics).
        Index("ix_submissions_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(Text, default="")
    seen_where: Mapped[str | None] = mapped_column(String(30))
    external_reference: Mapped[str | None] = mapped_column(String(120))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Reporter contact, encrypted (see casemgr.crypto); never stored in clear.
    reporter_contact: Mapped[bytes | None] = mapped_column(LargeBinary)
    feedback_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the report was made in ("en", "km": one of LANGUAGES), so
    # that the reporter's feedback speaks it; None when not known (reports
    # made by staff, or received before this was recorded). Only the locale
    # the page was shown in, never the browser's Accept-Language header.
    language: Mapped[str | None] = mapped_column(String(10))

    cases: Mapped[list[Case]] = relationship(back_populates="submission", order_by="Case.id")
    submitted_by: Mapped[User | None] = relationship()


class Case(Base):
    """One reported URL and everything done about it."""

    __tablename__ = "cases"
    __table_args__ = (
        # The queue's pages: newest open cases first, by state, by assignee.
        # (B-tree indexes are read backwards for "newest first".)
        Index(
            "ix_cases_open_received",
            "received_at",
            "id",
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
        Index("ix_cases_status_received", "status", "received_at", "id"),
        Index("ix_cases_assignee_received", "assignee_id", "received_at", "id"),
        # Every case, newest first: the "all" view and the API's default list.
        Index("ix_cases_received", "received_at", "id"),
        # A host's cases, newest first (the search by host name).
        Index("ix_cases_host_received", "host", "received_at", "id"),
        # The hosting country filter, alone or with a state: the page and its count.
        Index("ix_cases_country_status_received", "hosting_country", "status", "received_at", "id"),
        # The queue grouped by host or by submission, in the views of open
        # cases: every column the grouping and the usual filters read, so
        # that the open cases are aggregated from the index alone.
        Index(
            "ix_cases_open_groups",
            "host",
            "received_at",
            "due_at",
            "status",
            "assignee_id",
            "hosting_country",
            "classification",
            "submission_id",
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
        Index(
            "ix_cases_open_due",
            "due_at",
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
        Index(
            "ix_cases_removal_reported",
            "due_at",
            postgresql_where=text("removal_reported_at IS NOT NULL AND status <> 'closed'"),
            sqlite_where=text("removal_reported_at IS NOT NULL AND status <> 'closed'"),
        ),
        Index(
            "ix_cases_next_reminder",
            "next_reminder_at",
            postgresql_where=text("next_reminder_at IS NOT NULL"),
            sqlite_where=text("next_reminder_at IS NOT NULL"),
        ),
        # Statistics of a period: the cases received in it, the notices sent in it
        # (bench/stats.py measures what they save). The second holds every column
        # the figures read of a case notified in the period but received before
        # it, so that those come from the index alone (migration 0023).
        Index("ix_cases_received_at", "received_at"),
        Index(
            "ix_cases_notice_cohort",
            "notice_sent_at",
            "received_at",
            "removed_at",
            postgresql_where=text("notice_sent_at IS NOT NULL"),
            sqlite_where=text("notice_sent_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="RESTRICT"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    # SHA-256 of the normalised URL: the duplicate look-up, whatever the URL's length.
    url_hash: Mapped[str] = mapped_column(String(64), index=True)
    host: Mapped[str] = mapped_column(String(255))

    status: Mapped[str] = mapped_column(String(20), default=Status.NEW.value)
    resolution: Mapped[str | None] = mapped_column(String(30))
    classification: Mapped[str | None] = mapped_column(String(30))
    media_type: Mapped[str | None] = mapped_column(String(20))
    site_type: Mapped[str | None] = mapped_column(String(20))
    hosting_country: Mapped[str | None] = mapped_column(String(2))
    age_group: Mapped[str | None] = mapped_column(String(20))
    hosting_ip: Mapped[str | None] = mapped_column(String(45))

    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who made the current assessment (the per-analyst statistics read it here
    # rather than joining every case to its assess event).
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    police_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    police_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # A removal reported by the provider or the removal check, waiting for an
    # analyst to verify it (the queue's "removal reported" view): when, and by
    # whom (a RemovalSource). Reminders stop meanwhile.
    removal_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removal_reported_by: Mapped[str | None] = mapped_column(String(20))
    # Why the case waits to be routed again (an Attention): the provider
    # declined the notice. Cleared by whatever the analyst does next.
    attention: Mapped[str | None] = mapped_column(String(30))

    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assessment_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The deadline of the current stage (assessment, takedown, partner's answer);
    # a case past it is overdue.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the reminder job next looks at this case; NULL when nothing is chased.
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Optimistic locking: every UPDATE checks and bumps it, so two people acting
    # on the same case at once cannot both succeed silently.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    submission: Mapped[Submission] = relationship(back_populates="cases")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    duplicate_of: Mapped[Case | None] = relationship(remote_side=[id])
    provider: Mapped[Organisation | None] = relationship(foreign_keys=[provider_id])
    partner: Mapped[Organisation | None] = relationship(foreign_keys=[partner_id])
    police: Mapped[Organisation | None] = relationship(foreign_keys=[police_id])
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", passive_deletes=True
    )
    # Oldest first, like the events (casemgr/cases/notes.py adds them). The
    # database removes a case's notes with it: the ORM never touches a note
    # after writing it ("all").
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", order_by="CaseNote.id", passive_deletes="all"
    )

    @property
    def facts(self) -> CaseFacts:
        return CaseFacts(
            id=self.id,
            status=Status(self.status),
            police_hold=self.police_hold,
            assignee_id=self.assignee_id,
            received_at=self.received_at,
            hosting_country=self.hosting_country,
            first_action_at=self.first_action_at,
            attention=self.attention,
            removal_reported=self.removal_reported_at is not None,
        )

    def is_overdue(self, now: datetime) -> bool:
        """Open and past the deadline of its current stage (:meth:`overdue_at` in SQL)."""
        return self.status != Status.CLOSED and self.due_at is not None and self.due_at < now

    @classmethod
    def overdue_at(cls, now: datetime) -> ColumnElement[bool]:
        """:meth:`is_overdue` as a SQL condition (a NULL due date is never past)."""
        return and_(cls.status != Status.CLOSED, cls.due_at < now)

    def __repr__(self) -> str:
        return f"<Case {self.reference} {self.status}>"


class CaseEvent(Base):
    """One step of a case's history: who did what, from which state to which."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class CaseNote(Base):
    """A member of staff's note on a case: a phone call, a police reference.

    Plain text; never edited or deleted (a correction is a new note), so the
    ORM refuses to update or delete one (:func:`_notes_are_append_only`).
    Written by :func:`casemgr.cases.notes.add_note` only.
    """

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


@event.listens_for(CaseNote, "before_update")
@event.listens_for(CaseNote, "before_delete")
def _notes_are_append_only(mapper, connection, note: CaseNote) -> None:
    raise RuntimeError(f"case notes are never changed or deleted (note {note.id})")


class ReferenceCounter(Base):
    """Per-year counters behind human references (CM-2026-000042)."""

    __tablename__ = "reference_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)

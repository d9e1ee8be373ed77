"""What /status shows of a submission: each URL's coarse status, the messages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casemgr.cases.models import Case, Submission
from casemgr.crypto import ContactCipher
from casemgr.reporter.models import REPORTER, STAFF, ReporterMessage, SubmissionReceipt
from casemgr.reporter.services import ShownMessage, messages_of
from casemgr.reporter.statuses import LABELS, ReporterStatus, reporter_status


@dataclass(frozen=True)
class UrlStatus:
    url: str
    status: ReporterStatus


@dataclass(frozen=True)
class StatusPage:
    reference: str
    urls: list[UrlStatus]
    # The reporter's own view: no staff names.
    messages: list[ShownMessage]
    contact_purged: bool


def url_statuses(session: Session, submission_id: int) -> list[UrlStatus]:
    cases = session.scalars(
        select(Case)
        .where(Case.submission_id == submission_id)
        .options(selectinload(Case.duplicate_of).selectinload(Case.duplicate_of))
        .order_by(Case.id)
    ).all()
    return [UrlStatus(case.url, reporter_status(case)) for case in cases]


def status_page(session: Session, submission: Submission, *, cipher: ContactCipher) -> StatusPage:
    messages = [
        ShownMessage(m.sender, m.text, m.created_at, None)
        for m in messages_of(session, submission.id, cipher=cipher)
    ]
    return StatusPage(
        submission.reference,
        url_statuses(session, submission.id),
        messages,
        submission.contact_purged_at is not None,
    )


@dataclass(frozen=True)
class CasePanel:
    """What the case page says of the reporter's side: counts only (the texts
    are revealed with the contact, audited), and the question form if allowed."""

    has_receipt: bool
    from_reporter: int
    from_staff: int
    may_ask: bool
    status: ReporterStatus  # what the reporter sees for this URL

    @property
    def status_label(self) -> str:
        return LABELS[self.status]

    @property
    def has_messages(self) -> bool:
        return self.from_reporter + self.from_staff > 0


def case_panel(session: Session, case: Case, *, may_ask: bool) -> CasePanel | None:
    """None for a submission without a receipt and without messages."""
    senders = session.scalars(
        select(ReporterMessage.sender).where(ReporterMessage.submission_id == case.submission_id)
    ).all()
    receipt = session.get(SubmissionReceipt, case.submission_id) is not None
    if not receipt and not senders:
        return None
    return CasePanel(
        receipt,
        sum(1 for s in senders if s == REPORTER),
        sum(1 for s in senders if s == STAFF),
        may_ask and receipt and case.submission.contact_purged_at is None,
        reporter_status(case),
    )

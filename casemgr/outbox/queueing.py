"""Putting a message in the outbox: a stored letter's e-mail, a reporter's feedback.

These run inside the transaction of whoever made what is sent (they are
called from :mod:`casemgr.outbox.subscribers`, on ``letter_stored`` and
``case_acted``), so a message is never lost between "made" and "queued".
Nothing here talks to a mail server: that is the delivery job's part.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from casemgr.alerts.services import raise_alert
from casemgr.cases.models import Case, Submission
from casemgr.cases.states import Status
from casemgr.database import dialect_insert
from casemgr.notices.models import Notice
from casemgr.outbox.mailer import mailbox
from casemgr.outbox.models import QUEUED, OutboxMessage


def _fresh(now: datetime) -> dict:
    """The fields of a message just queued: due now, never tried."""
    return {
        "status": QUEUED,
        "attempts": 0,
        "manual_retries": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def enqueue_letter(session: Session, notice: Notice, *, now: datetime) -> OutboxMessage | None:
    """Queue the e-mail of a letter just stored (on ``events.letter_stored``).

    A letter without an address is left for manual delivery (``store_letter``
    marked it). One with an address that is not an e-mail address is marked
    for manual delivery here, and the supervisors get an alert.
    """
    if notice.manual_delivery or not notice.recipient_email:
        return None
    address = mailbox(notice.recipient_email)
    if address is None:
        notice.manual_delivery = True
        raise_alert(
            session,
            kind="invalid_email",
            key=f"invalid_email:{notice.reference}",
            message=(
                f"{notice.reference} to {notice.recipient_name}: {notice.recipient_email!r} is "
                "not an e-mail address the outbox can send to, so the letter is to be delivered "
                "by hand. Correct the address in the directory."
            ),
            now=now,
            notice_id=notice.id,
        )
        session.flush()
        return None
    # The e-mail speaks the recipient's language where a text exists (the PDF's
    # wording may have fallen back to English).
    organisation = notice.recipient if notice.recipient_id is not None else None
    message = OutboxMessage(
        kind="letter",
        notice_id=notice.id,
        recipient=address,
        language=organisation.language if organisation is not None else notice.language,
        **_fresh(now),
    )
    session.add(message)
    session.flush()
    return message


def enqueue_checkpoint(
    session: Session, checkpoint_id: int, address: str, *, now: datetime
) -> OutboxMessage:
    """Queue the e-mail of an audit log checkpoint to ``address`` (AUDIT_CHECKPOINT_EMAIL)."""
    message = OutboxMessage(
        kind="audit_checkpoint",
        checkpoint_id=checkpoint_id,
        recipient=address,
        **_fresh(now),
    )
    session.add(message)
    session.flush()
    return message


def report_language(submission: Submission) -> str | None:
    """The language the report was made in, where the submission records one."""
    return submission.language or None


def enqueue_feedback(session: Session, case: Case, *, now: datetime) -> int | None:
    """After ``case`` was closed: queue the reporter's feedback if every case of
    its submission is now closed, the reporter asked for feedback and left a
    contact. Once per submission, ever (the unique ``submission_id``): a case
    reopened and closed again sends nothing more. Returns the row's id.

    The submission row is locked first (PostgreSQL), so that two people
    closing its last two cases at the same moment cannot both see the other's
    case still open: the second waits, then sees the first's close.

    The contact is copied as it is stored (encrypted with the contact key);
    whether it is an e-mail address is checked when it is sent (a phone
    number is not: the message is then cancelled and the copy erased).
    """
    submission = case.submission
    if not submission.feedback_requested or submission.reporter_contact is None:
        return None
    session.execute(
        select(Submission.id).where(Submission.id == submission.id).with_for_update()
    ).first()
    still_open = session.scalar(
        select(exists().where(Case.submission_id == submission.id, Case.status != Status.CLOSED))
    )
    if still_open:
        return None
    contact = session.scalar(
        select(Submission.reporter_contact).where(Submission.id == submission.id)
    )
    if contact is None:  # purged meanwhile
        return None
    return session.execute(
        dialect_insert(session)(OutboxMessage)
        .values(
            kind="feedback",
            submission_id=submission.id,
            sealed_recipient=contact,
            language=report_language(submission),
            **_fresh(now),
        )
        .on_conflict_do_nothing(index_elements=["submission_id"])
        .returning(OutboxMessage.id)
    ).scalar()

"""What a delivery attempt came to, written down: sent, retried later, failed, held.

The job (:mod:`casemgr.jobs.outbox`) sends; this module decides and records
what follows from the server's answer (:class:`~casemgr.outbox.mailer.Attempt`)
or from a message that is not to be sent: the retry policy with its
back-off, ``failed`` once refused for good or out of attempts, ``unknown``
held for a supervisor when the answer was lost, and the alerts and
notifications that put a failed or unknown message before the people who
must act. It also takes back the claims whose job process died
(:func:`recover_expired`). Every write is conditional on the claim (see
:mod:`casemgr.outbox.claims`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import case, literal, select
from sqlalchemy.orm import Session

from casemgr.alerts.services import raise_alert
from casemgr.cases.models import Case, Submission
from casemgr.database import UTCDateTime
from casemgr.notices.models import Notice, NoticeCase
from casemgr.notifications import services as notifications
from casemgr.outbox.claims import held_by_claim
from casemgr.outbox.composing import NotSendable
from casemgr.outbox.mailer import Attempt
from casemgr.outbox.models import CANCELLED, FAILED, QUEUED, SENDING, SENT, UNKNOWN, OutboxMessage
from casemgr.outbox.settings import OutboxSettings

_rows = OutboxMessage.__table__
_letters = Notice.__table__


def record_attempt(
    session: Session,
    message_id: int,
    token: str,
    attempt: Attempt,
    *,
    now: datetime,
    settings: OutboxSettings,
) -> str | None:
    """Write what an attempt came to; the row's new status, or None when this
    claim no longer holds the row (nothing is written then)."""
    if attempt.outcome == "aborted":
        return None
    if attempt.outcome == "sent":
        return _record_sent(session, message_id, token, attempt, now=now)
    row = held_by_claim(session, message_id, token)
    if row is None:
        return None
    row.lease_expires_at = None
    if attempt.outcome == "permanent":
        _fail(session, row, attempt.detail, now=now)
    elif attempt.outcome == "unknown" and settings.unknown_outcome == "hold":
        _hold(session, row, attempt.detail, now=now)
    else:  # transient, or unknown with the "resend" policy
        _retry_or_fail(session, row, attempt.detail, now=now, settings=settings)
    session.flush()
    return row.status


def _record_sent(
    session: Session, message_id: int, token: str, attempt: Attempt, *, now: datetime
) -> str | None:
    """The common case in two Core statements: the row ``sent`` (the reporter's
    address erased), its letter ``sent_at``."""
    notice_id = session.execute(
        _rows.update()
        .where(
            _rows.c.id == message_id,
            _rows.c.claim_token == token,
            _rows.c.status.in_((SENDING, UNKNOWN)),
        )
        .values(
            status=SENT,
            sent_at=now,
            smtp_reply=attempt.detail[:1000],
            last_error=None,
            lease_expires_at=None,
            sealed_recipient=None,
            recipient_purged_at=case(
                (_rows.c.sealed_recipient.is_not(None), literal(now, UTCDateTime())),
                else_=_rows.c.recipient_purged_at,
            ),
        )
        .returning(_rows.c.notice_id)
    ).first()
    if notice_id is None:
        return None
    if notice_id[0] is not None:
        session.execute(
            _letters.update()
            .where(_letters.c.id == notice_id[0], _letters.c.sent_at.is_(None))
            .values(sent_at=now)
        )
    return SENT


def give_up(
    session: Session, message_id: int, token: str, reason: NotSendable, *, now: datetime
) -> str | None:
    """A claimed message that is not to be sent: ``cancelled``, or ``failed`` with
    an alert when supervisors must see it."""
    row = held_by_claim(session, message_id, token)
    if row is None:
        return None
    row.lease_expires_at = None
    if reason.alert:
        _fail(session, row, str(reason), now=now)
    else:
        row.status = CANCELLED
        row.last_error = str(reason)
        purge_recipient(row, now)
    session.flush()
    return row.status


def record_bounce(session: Session, row: OutboxMessage, detail: str, *, now: datetime) -> bool:
    """A delivery status notification says ``row`` was not delivered after all:
    ``failed``, with the supervisors' alert and the assignees' notification of
    every failure. True if it was marked; False when the row is not one that
    had been handed over (queued again, being sent, cancelled, or failed already)."""
    if row.status not in (SENT, UNKNOWN):
        return False
    _fail(session, row, detail, now=now)
    session.flush()
    return True


def purge_recipient(row: OutboxMessage, now: datetime) -> None:
    """Erase the copy of a reporter's address once the message is sent or given up."""
    if row.sealed_recipient is not None:
        row.sealed_recipient = None
        row.recipient_purged_at = now


def _retry_or_fail(
    session: Session,
    row: OutboxMessage,
    detail: str,
    *,
    now: datetime,
    settings: OutboxSettings,
    immediately: bool = False,
) -> None:
    if row.attempts >= settings.max_attempts:
        _fail(
            session,
            row,
            f"{detail} (gave up after {row.attempts} attempts)",
            now=now,
        )
        return
    row.status = QUEUED
    row.last_error = detail[:2000]
    row.claim_token = None
    row.lease_expires_at = None
    row.handed_over_at = None
    row.next_attempt_at = now if immediately else now + settings.backoff(row.attempts)


def describe_message(session: Session, row: OutboxMessage) -> tuple[str, str]:
    """(reference, who it goes to) for alerts: never the reporter's address."""
    if row.notice_id is not None:
        notice = session.get(Notice, row.notice_id)
        if notice is not None:
            return notice.reference, f"{notice.recipient_name} <{row.recipient}>"
    if row.submission_id is not None:
        submission = session.get(Submission, row.submission_id)
        if submission is not None:
            return f"the feedback on report {submission.reference}", "the reporter"
    if row.checkpoint_id is not None:
        return f"audit checkpoint {row.checkpoint_id}", row.recipient or "?"
    return f"outbox message {row.id}", "?"


def delivery_alert_prefix(message_id: int) -> str:
    """The start of the key of every alert about the message's delivery."""
    return f"delivery:{message_id}:"


def _alert_key(row: OutboxMessage) -> str:
    # One alert per series of attempts: a supervisor's retry starts a new series.
    return f"{delivery_alert_prefix(row.id)}{row.manual_retries}"


def _fail(session: Session, row: OutboxMessage, detail: str, *, now: datetime) -> None:
    row.status = FAILED
    row.last_error = detail[:2000]
    row.lease_expires_at = None
    reference, recipient = describe_message(session, row)
    message = (
        f"E-mail delivery of {reference} to {recipient} failed: {detail[:500]}. "
        "Retry it or deliver it by hand from the outbox page."
    )
    _raise(session, row, "delivery_failed", message, now=now)


def _hold(session: Session, row: OutboxMessage, detail: str, *, now: datetime) -> None:
    row.status = UNKNOWN
    row.last_error = detail[:2000]
    row.lease_expires_at = None
    reference, recipient = describe_message(session, row)
    message = (
        f"E-mail of {reference} to {recipient} was handed to the mail server but its answer "
        "was lost: it may or may not have been delivered. It is not sent again "
        "automatically. Ask the recipient, then confirm it or retry it (same Message-ID) "
        "from the outbox page."
    )
    _raise(session, row, "delivery_unknown", message, now=now)


def _raise(session: Session, row: OutboxMessage, kind: str, message: str, *, now: datetime) -> None:
    """The supervisors' alert, and a notification to whoever is assigned the message's cases."""
    case_ids = _case_ids(session, row)
    raise_alert(
        session,
        kind=kind,
        key=_alert_key(row),
        message=message,
        now=now,
        case_id=case_ids[0] if len(case_ids) == 1 else None,
        notice_id=row.notice_id,
    )
    notifications.notify_assignees(
        session,
        case_ids,
        kind="delivery_failed",
        key=_alert_key(row),
        message=message,
        now=now,
        notice_id=row.notice_id,
    )


def _case_ids(session: Session, row: OutboxMessage) -> list[int]:
    if row.notice_id is not None:
        statement = select(NoticeCase.case_id).where(NoticeCase.notice_id == row.notice_id)
    elif row.submission_id is not None:
        statement = select(Case.id).where(Case.submission_id == row.submission_id)
    else:
        return []
    return sorted(session.scalars(statement).all())


def recover_expired(session: Session, *, now: datetime, settings: OutboxSettings) -> Counter:
    """Claims whose lease expired (the process sending them died or hung).

    Not yet handed over: queued again at once (it cannot have been
    delivered). Handed over: the outcome is unknown, and the policy
    decides (``hold``: a supervisor; ``resend``: queued again).
    """
    counts: Counter[str] = Counter()
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == SENDING, OutboxMessage.lease_expires_at < now)
        .order_by(OutboxMessage.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    for row in rows:
        if row.handed_over_at is None:
            _retry_or_fail(
                session,
                row,
                "the job process sending it stopped before handing it to the server "
                "(it was not delivered)",
                now=now,
                settings=settings,
                immediately=True,
            )
            counts["requeued"] += 1
        else:
            detail = (
                "the job process sending it stopped after handing it to the server, before "
                "the answer came: it may have been delivered"
            )
            if settings.unknown_outcome == "hold":
                _hold(session, row, detail, now=now)
            else:
                _retry_or_fail(session, row, detail, now=now, settings=settings)
            counts["unknown"] += 1
    session.flush()
    return counts

"""The outbox: queuing e-mails with what they send, and every step of their delivery.

Functions take the session and ``now``; they flush but never commit. The
delivery job (``casemgr.jobs.outbox``) commits between the steps, because
what is committed *before* talking to the SMTP server is what makes the
guarantees below hold when a process dies half-way.

States of a message
-------------------
``queued`` -> (claimed) ``sending`` -> ``sent``; or back to ``queued`` with a
later ``next_attempt_at`` (a failure worth retrying), or ``failed`` (refused
for good, or out of attempts), or ``unknown`` (handed to the server, answer
lost). ``failed`` and ``unknown`` wait for a supervisor: retry (same
Message-ID), confirm it arrived (``unknown`` only), or deliver it by hand
instead (``cancelled``).

What is guaranteed, and what SMTP cannot guarantee
--------------------------------------------------
1. *Nothing is lost.* A message is queued in the transaction that made its
   letter (or closed its submission's last case); the job commits its
   claims before it sends, and a claim whose process died is found again
   when its lease expires.
2. *No two processes send one message.* Rows are claimed with one
   ``UPDATE ... WHERE status = 'queued' ... RETURNING``; on PostgreSQL the
   rows are picked ``FOR UPDATE SKIP LOCKED`` (two jobs take different rows
   and never wait on each other), on SQLite the single writer serialises
   the claims. Each claim carries a random token, and every later write
   about the attempt is conditional on it.
3. *Never twice automatically, when the server may already have it.* Just
   before the message is handed over (DATA), the job commits
   ``handed_over_at`` (and checks that its claim still holds). After that
   point only the server's answer tells whether it was accepted; when the
   answer is lost (the connection drops or times out after the end of the
   message, or the process dies) the outcome is *unknown*. With
   ``OUTBOX_UNKNOWN_OUTCOME = "hold"`` (the default) such a message is not
   sent again by the job: it is put before the supervisors (an alert and
   the outbox page), who retry it or confirm it arrived. A failure *before*
   the hand-over (no connection, refused, dropped earlier, a process that
   died before it) is retried freely: a server cannot have accepted a
   message it has not received whole.
4. *Every attempt is the same message.* The Message-ID (``make_msgid`` with
   ``MAIL_MESSAGE_ID_DOMAIN``) and the Date are fixed at the first claim
   and committed before the first byte goes out; a retry, automatic or by
   hand, sends the same Message-ID, so a receiving system that deduplicates
   by Message-ID (many do) shows one message even then.

SMTP has no way to ask a server afterwards whether it accepted a message, so
exactly-once delivery cannot be had: with ``hold`` a message whose answer
was lost may stay undelivered until a supervisor acts (the letter's
reminders go on regardless); with ``resend`` it may arrive twice, with the
same Message-ID.

The server's answer is committed together with the next message's
hand-over (one commit a message): a job process that dies between the two
leaves that one message ``sending`` and handed over, so it is held as
unknown although it was delivered. That costs a supervisor a click, never a
duplicate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.utils import format_datetime, make_msgid
from typing import Any

from flask import Flask
from sqlalchemy import String, case, cast, exists, func, literal, select, update
from sqlalchemy.orm import Session, selectinload

from casemgr.alerts.models import Alert
from casemgr.alerts.services import raise_alert
from casemgr.audit.services import record
from casemgr.cases.models import Case, Submission
from casemgr.cases.workflow import Status
from casemgr.crypto import ContactCipher
from casemgr.database import UTCDateTime
from casemgr.errors import Conflict, NotFound
from casemgr.notices.models import Notice, NoticeCase
from casemgr.notifications import services as notifications
from casemgr.outbox.mailer import Attempt, SmtpSettings, mailbox
from casemgr.outbox.message import compose, new_message
from casemgr.outbox.models import (
    CANCELLED,
    FAILED,
    NEEDS_ATTENTION,
    QUEUED,
    SENDING,
    SENT,
    STATUSES,
    UNKNOWN,
    OutboxMessage,
)
from casemgr.outbox.wording import MailWording

UNKNOWN_OUTCOME_POLICIES = ("hold", "resend")
_rows = OutboxMessage.__table__
_letters = Notice.__table__


# ------------------------------------------------------------------ settings


@dataclass(frozen=True)
class OutboxSettings:
    """Everything delivery takes from the configuration, checked once."""

    smtp: SmtpSettings
    sender: str
    hotline_name: str
    hotline_email: str
    message_id_domain: str
    default_language: str = "en"
    wording: MailWording = MailWording.from_config({})
    max_attempts: int = 6
    retry_base: timedelta = timedelta(minutes=5)
    retry_max: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(minutes=15)
    batch_limit: int = 5000
    unknown_outcome: str = "hold"

    @classmethod
    def from_app(cls, app: Flask) -> OutboxSettings:
        return cls.from_config(app.config)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OutboxSettings:
        """Raises ValueError naming the setting that is wrong."""
        sender = mailbox(config.get("MAIL_FROM") or config.get("HOTLINE_EMAIL"))
        if sender is None:
            raise ValueError("MAIL_FROM (or HOTLINE_EMAIL) must be an e-mail address")
        domain = str(config.get("MAIL_MESSAGE_ID_DOMAIN") or sender.rsplit("@", 1)[1])
        if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
            raise ValueError("MAIL_MESSAGE_ID_DOMAIN must be a plain (ASCII) domain name")
        numbers: dict[str, float] = {}
        for name in (
            "OUTBOX_MAX_ATTEMPTS",
            "OUTBOX_RETRY_BASE_SECONDS",
            "OUTBOX_RETRY_MAX_SECONDS",
            "OUTBOX_LEASE_SECONDS",
            "OUTBOX_BATCH_LIMIT",
        ):
            value = config.get(name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive number")
            numbers[name] = value
        smtp = SmtpSettings.from_config(config)
        lease = timedelta(seconds=numbers["OUTBOX_LEASE_SECONDS"])
        if lease.total_seconds() <= smtp.timeout * 4 + smtp.data_timeout:
            raise ValueError(
                "OUTBOX_LEASE_SECONDS must be longer than one message can take: more than "
                "4 x SMTP_TIMEOUT + SMTP_DATA_TIMEOUT"
            )
        policy = config.get("OUTBOX_UNKNOWN_OUTCOME", "hold")
        if policy not in UNKNOWN_OUTCOME_POLICIES:
            raise ValueError(
                f"OUTBOX_UNKNOWN_OUTCOME must be one of {', '.join(UNKNOWN_OUTCOME_POLICIES)}"
            )
        return cls(
            smtp=smtp,
            sender=sender,
            hotline_name=config["HOTLINE_NAME"],
            hotline_email=config["HOTLINE_EMAIL"],
            message_id_domain=domain,
            default_language=config.get("MAIL_DEFAULT_LANGUAGE") or "en",
            wording=MailWording.from_config(config.get("MAIL_WORDING") or {}),
            max_attempts=int(numbers["OUTBOX_MAX_ATTEMPTS"]),
            retry_base=timedelta(seconds=numbers["OUTBOX_RETRY_BASE_SECONDS"]),
            retry_max=timedelta(seconds=numbers["OUTBOX_RETRY_MAX_SECONDS"]),
            lease=lease,
            batch_limit=int(numbers["OUTBOX_BATCH_LIMIT"]),
            unknown_outcome=policy,
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: base, 2 x base, 4 x base, ..."""
        delay = self.retry_base * (2 ** max(0, min(attempts - 1, 30)))
        return min(delay, self.retry_max)


# ------------------------------------------------------------------- queuing


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def enqueue_letter(session: Session, notice: Notice, *, now: datetime) -> OutboxMessage | None:
    """Queue the e-mail of a letter just stored; called by ``store_letter``.

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
        status=QUEUED,
        attempts=0,
        manual_retries=0,
        next_attempt_at=now,
        created_at=now,
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
    insert = _insert(session)
    return session.execute(
        insert(OutboxMessage)
        .values(
            kind="feedback",
            submission_id=submission.id,
            sealed_recipient=contact,
            language=report_language(submission),
            status=QUEUED,
            attempts=0,
            manual_retries=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["submission_id"])
        .returning(OutboxMessage.id)
    ).scalar()


# ------------------------------------------------------------------ claiming


def claim(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    token: str,
    message_id_domain: str,
    limit: int = 1,
) -> list[int]:
    """Claim up to ``limit`` due messages for this job process; their ids, oldest first.

    Sets ``sending`` with a lease and this claim's token, counts the attempt,
    and fixes the Message-ID and Date of a message on its first claim. The
    caller commits before it talks to the server.
    """
    # Core statements on the table (not the ORM's bulk UPDATE): this runs for
    # every message, and the ORM's bookkeeping cost more than the statement.
    # A materialised CTE: as a plain ``IN (subquery)`` PostgreSQL may run the
    # subquery more than once and so claim more than ``limit`` rows.
    due = (
        select(_rows.c.id)
        .where(_rows.c.status == QUEUED, _rows.c.next_attempt_at <= now)
        .order_by(_rows.c.next_attempt_at, _rows.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    # make_msgid's unique left part (time, pid, random), then the row's id.
    left = make_msgid(domain=message_id_domain)[1:].split("@", 1)[0]
    new_id = literal(f"<{left}.") + cast(_rows.c.id, String) + literal(f"@{message_id_domain}>")
    statement = (
        _rows.update()
        .where(_rows.c.id.in_(select(due.c.id)), _rows.c.status == QUEUED)
        .values(
            status=SENDING,
            claim_token=token,
            lease_expires_at=now + lease,
            attempts=_rows.c.attempts + 1,
            last_attempt_at=now,
            handed_over_at=None,
            message_id=func.coalesce(_rows.c.message_id, new_id),
            message_date=func.coalesce(_rows.c.message_date, literal(now, UTCDateTime())),
        )
        .returning(_rows.c.id, _rows.c.next_attempt_at)
    )
    rows = session.execute(statement).all()
    return [row.id for row in sorted(rows, key=lambda row: (row.next_attempt_at, row.id))]


def claim_next(
    session: Session, *, now: datetime, lease: timedelta, token: str, message_id_domain: str
) -> int | None:
    """Claim the next due message (see :func:`claim`): its id, or None."""
    claimed = claim(session, now=now, lease=lease, token=token, message_id_domain=message_id_domain)
    return claimed[0] if claimed else None


def release(session: Session, message_ids: list[int], token: str) -> int:
    """Give back claimed messages that were not tried (the run stopped): queued
    again as they were, the attempt not counted."""
    if not message_ids:
        return 0
    result = session.execute(
        _rows.update()
        .where(
            _rows.c.id.in_(message_ids),
            _rows.c.claim_token == token,
            _rows.c.status == SENDING,
            _rows.c.handed_over_at.is_(None),
        )
        .values(
            status=QUEUED,
            attempts=_rows.c.attempts - 1,
            claim_token=None,
            lease_expires_at=None,
        )
        .returning(_rows.c.id)
    )
    return len(result.all())


def mark_handed_over(session: Session, message_id: int, token: str, *, now: datetime) -> bool:
    """Record that the message is about to be handed to the server; False if the
    claim was lost (its lease expired and the row was taken back): then the
    caller must not send it."""
    statement = (
        _rows.update()
        .where(_rows.c.id == message_id, _rows.c.claim_token == token, _rows.c.status == SENDING)
        .values(handed_over_at=now)
        .returning(_rows.c.id)
    )
    return session.execute(statement).scalar() is not None


def _claimed(session: Session, message_id: int, token: str) -> OutboxMessage | None:
    """The row if this claim still holds it (``sending``, or ``unknown`` after its
    lease expired mid-answer), locked for this transaction."""
    return session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.claim_token == token,
            OutboxMessage.status.in_((SENDING, UNKNOWN)),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# ----------------------------------------------------------------- composing


class NotSendable(Exception):
    """The message is not to be sent at all (no e-mail address, delivered by hand).

    ``alert`` is True when supervisors must hear of it (it is then ``failed``),
    False when it is simply dropped (``cancelled``).
    """

    def __init__(self, reason: str, *, alert: bool = False) -> None:
        super().__init__(reason)
        self.alert = alert


@dataclass(frozen=True)
class Prepared:
    recipient: str
    payload: bytes
    # A reporter's address: never written to a row, a log or an alert.
    secret: str | None = None


def prepare(
    session: Session, message_id: int, *, settings: OutboxSettings, cipher: ContactCipher
) -> Prepared:
    """The e-mail of a claimed row, as bytes ready for SMTP; raises NotSendable."""
    # One Core query for what the message needs (the ORM's loading of a row
    # with its letter cost more than the rest of composing it).
    submissions = Submission.__table__
    row = session.execute(
        select(
            _rows.c.kind,
            _rows.c.recipient,
            _rows.c.sealed_recipient,
            _rows.c.language,
            _rows.c.message_id,
            _rows.c.message_date,
            _rows.c.notice_id,
            _letters.c.kind.label("letter_kind"),
            _letters.c.reference.label("letter_reference"),
            _letters.c.recipient_name,
            _letters.c.sent_at,
            _letters.c.pdf,
            submissions.c.reference.label("submission_reference"),
        )
        .select_from(
            _rows.outerjoin(_letters, _letters.c.id == _rows.c.notice_id).outerjoin(
                submissions, submissions.c.id == _rows.c.submission_id
            )
        )
        .where(_rows.c.id == message_id)
    ).first()
    if row is None:
        raise NotFound(f"no outbox message {message_id}")
    assert row.message_id is not None and row.message_date is not None  # set by the claim
    headers = new_message()
    headers["From"] = Address(display_name=settings.hotline_name, addr_spec=settings.sender)
    if settings.hotline_email.strip().lower() != settings.sender.lower():
        headers["Reply-To"] = settings.hotline_email
    headers["Date"] = format_datetime(row.message_date)
    headers["Message-ID"] = row.message_id
    if row.kind == "letter":
        if row.letter_reference is None:
            raise NotSendable("the letter was deleted")
        if row.sent_at is not None:
            raise NotSendable("the letter was delivered by hand already")
        mail = settings.wording.letter(
            row.language,
            kind=row.letter_kind,
            reference=row.letter_reference,
            recipient=row.recipient_name,
            hotline=settings.hotline_name,
            hotline_email=settings.hotline_email,
        )
        headers["To"] = Address(
            display_name=" ".join(row.recipient_name.split()), addr_spec=row.recipient or ""
        )
        headers["Subject"] = mail.subject
        payload = compose(headers, mail.body, (f"{row.letter_reference}.pdf", row.pdf))
        return Prepared(row.recipient or "", payload)
    if row.sealed_recipient is None or row.submission_reference is None:
        raise NotSendable("the reporter's contact was erased")
    try:
        contact = cipher.decrypt(row.sealed_recipient)
    except ValueError as exc:
        raise NotSendable(str(exc), alert=True) from None
    address = mailbox(contact)
    if address is None:
        raise NotSendable("the reporter's contact is not an e-mail address")
    mail = settings.wording.feedback(
        feedback_language(row.language, settings),
        reference=row.submission_reference,
        hotline=settings.hotline_name,
        hotline_email=settings.hotline_email,
    )
    headers["To"] = address
    headers["Subject"] = mail.subject
    headers["Auto-Submitted"] = "auto-generated"
    return Prepared(address, compose(headers, mail.body), secret=address)


def feedback_language(language: str | None, settings: OutboxSettings) -> str:
    """The report's language where there is wording for it, else MAIL_DEFAULT_LANGUAGE."""
    if language and language in settings.wording.languages:
        return language
    return settings.default_language


def scrub(text: str, secret: str | None) -> str:
    """``text`` without the reporter's address (servers often quote it back)."""
    if not secret:
        return text
    return re.sub(re.escape(secret), "[the reporter's address]", text, flags=re.IGNORECASE)


# ----------------------------------------------------------------- recording


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
    row = _claimed(session, message_id, token)
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
    row = _claimed(session, message_id, token)
    if row is None:
        return None
    row.lease_expires_at = None
    if reason.alert:
        _fail(session, row, str(reason), now=now)
    else:
        row.status = CANCELLED
        row.last_error = str(reason)
        _purge(row, now)
    session.flush()
    return row.status


def _purge(row: OutboxMessage, now: datetime) -> None:
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


def _describe_row(session: Session, row: OutboxMessage) -> tuple[str, str]:
    """(reference, who it goes to) for alerts: never the reporter's address."""
    if row.notice_id is not None:
        notice = session.get(Notice, row.notice_id)
        if notice is not None:
            return notice.reference, f"{notice.recipient_name} <{row.recipient}>"
    if row.submission_id is not None:
        submission = session.get(Submission, row.submission_id)
        if submission is not None:
            return f"the feedback on report {submission.reference}", "the reporter"
    return f"outbox message {row.id}", "?"


def _alert_key(row: OutboxMessage) -> str:
    return f"delivery:{row.id}:{row.manual_retries}"


def _fail(session: Session, row: OutboxMessage, detail: str, *, now: datetime) -> None:
    row.status = FAILED
    row.last_error = detail[:2000]
    row.lease_expires_at = None
    reference, recipient = _describe_row(session, row)
    message = (
        f"E-mail delivery of {reference} to {recipient} failed: {detail[:500]}. "
        "Retry it or deliver it by hand from the outbox page."
    )
    _raise(session, row, "delivery_failed", message, now=now)


def _hold(session: Session, row: OutboxMessage, detail: str, *, now: datetime) -> None:
    row.status = UNKNOWN
    row.last_error = detail[:2000]
    row.lease_expires_at = None
    reference, recipient = _describe_row(session, row)
    message = (
        f"E-mail of {reference} to {recipient} was handed to the mail server but its answer "
        "was lost: it may or may not have been delivered. It is not sent again "
        "automatically. Ask the recipient, then confirm it or retry it (same Message-ID) "
        "from the outbox page."
    )
    _raise(session, row, "delivery_unknown", message, now=now)


def _raise(session: Session, row: OutboxMessage, kind: str, message: str, *, now: datetime):
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


# --------------------------------------------------------- supervisors' actions


def get_message(session: Session, message_id: int) -> OutboxMessage:
    """The outbox row; raises NotFound."""
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise NotFound(f"no outbox message with id {message_id}")
    return row


def _resolve_alerts(session: Session, row: OutboxMessage, *, actor_id: int, now: datetime):
    session.execute(
        update(Alert)
        .where(Alert.key.startswith(f"delivery:{row.id}:"), Alert.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=actor_id)
        .execution_options(synchronize_session=False)
    )


def _audit(session: Session, action: str, row: OutboxMessage, actor_id: int, now, **details):
    reference, _ = _describe_row(session, row)
    record(
        session,
        action=action,
        now=now,
        actor_id=actor_id,
        target_type="outbox_message",
        target_id=row.id,
        details={"reference": reference, "message_id": row.message_id, **details},
    )


def retry(session: Session, message_id: int, *, actor_id: int, now: datetime) -> OutboxMessage:
    """Send a failed or unknown message again, from now, with a new series of
    attempts and the same Message-ID (audited). Raises NotFound, Conflict."""
    row = get_message(session, message_id)
    if row.status not in NEEDS_ATTENTION:
        raise Conflict(f"only a failed or unknown message can be retried; this one is {row.status}")
    if row.kind == "feedback" and row.sealed_recipient is None:
        raise Conflict("the reporter's contact was erased: this message cannot be sent")
    previous = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
    row.status = QUEUED
    row.attempts = 0
    row.next_attempt_at = now
    row.claim_token = None
    row.lease_expires_at = None
    row.handed_over_at = None
    _resolve_alerts(session, row, actor_id=actor_id, now=now)
    row.manual_retries += 1
    _audit(session, "outbox.retry", row, actor_id, now, previous=previous)
    session.flush()
    return row


def confirm_delivered(
    session: Session, message_id: int, *, actor_id: int, now: datetime
) -> OutboxMessage:
    """A message of unknown outcome that the recipient confirmed they received:
    ``sent``, and its letter too (audited). Raises NotFound, Conflict."""
    row = get_message(session, message_id)
    if row.status != UNKNOWN:
        raise Conflict(
            f"only a message of unknown outcome can be confirmed; this one is {row.status}"
        )
    row.status = SENT
    row.sent_at = now
    row.claim_token = None
    _purge(row, now)
    if row.notice_id is not None:
        session.execute(
            update(Notice)
            .where(Notice.id == row.notice_id, Notice.sent_at.is_(None))
            .values(sent_at=now, sent_by_id=actor_id)
            .execution_options(synchronize_session=False)
        )
    _resolve_alerts(session, row, actor_id=actor_id, now=now)
    _audit(session, "outbox.confirm", row, actor_id, now)
    session.flush()
    return row


def cancel(session: Session, message_id: int, *, actor_id: int, now: datetime) -> OutboxMessage:
    """Stop e-mailing a failed or unknown message (audited): a letter goes to the
    list of letters to deliver by hand; a reporter's feedback is dropped and
    the copy of their contact erased. Raises NotFound, Conflict."""
    row = get_message(session, message_id)
    if row.status not in NEEDS_ATTENTION:
        raise Conflict(
            f"only a failed or unknown message can be cancelled; this one is {row.status}"
        )
    previous = row.status
    row.status = CANCELLED
    row.claim_token = None
    _purge(row, now)
    if row.notice_id is not None:
        session.execute(
            update(Notice)
            .where(Notice.id == row.notice_id)
            .values(manual_delivery=True)
            .execution_options(synchronize_session=False)
        )
    _resolve_alerts(session, row, actor_id=actor_id, now=now)
    _audit(session, "outbox.cancel", row, actor_id, now, previous_status=previous)
    session.flush()
    return row


# -------------------------------------------------------------------- reading


def status_counts(session: Session) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    rows = session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)
    ).all()
    counts.update({status: count for status, count in rows})
    return counts


def attention_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status.in_(NEEDS_ATTENTION))
        )
        or 0
    )


def _with_subjects(statement):
    return statement.options(
        selectinload(OutboxMessage.notice), selectinload(OutboxMessage.submission)
    )


def list_messages(session: Session, statuses: tuple[str, ...], *, limit: int = 100):
    """Messages in ``statuses``: waiting ones by next attempt, sent ones newest
    first, the others oldest first."""
    statement = _with_subjects(select(OutboxMessage).where(OutboxMessage.status.in_(statuses)))
    if statuses == (SENT,):
        statement = statement.order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
    elif set(statuses) <= {QUEUED, SENDING}:
        statement = statement.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    else:
        statement = statement.order_by(OutboxMessage.created_at, OutboxMessage.id)
    return list(session.scalars(statement.limit(limit)).all())


def due_count(session: Session, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now
            )
        )
        or 0
    )


def awaiting_manual_delivery(session: Session, *, limit: int = 500) -> list[Notice]:
    """Letters to deliver by hand that nobody has marked delivered yet, oldest first."""
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.manual_delivery.is_(True), Notice.sent_at.is_(None))
            .options(selectinload(Notice.links).selectinload(NoticeCase.case))
            .order_by(Notice.created_at, Notice.id)
            .limit(limit)
        ).all()
    )


def manual_delivery_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(Notice.id)).where(
                Notice.manual_delivery.is_(True), Notice.sent_at.is_(None)
            )
        )
        or 0
    )

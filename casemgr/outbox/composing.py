"""The e-mail of a claimed message, as the bytes SMTP sends: :func:`prepare`.

Reads what the message needs (its letter and PDF, or the reporter's sealed
contact), picks the wording and the headers (the Message-ID and Date fixed
by the claim), and hands the parts to :mod:`casemgr.outbox.message`, which
only knows MIME. A notice or reminder to a hosting provider also carries its
response link in the body and one X-ARF report per URL
(:mod:`casemgr.outbox.xarf`); at most three queries a message. A message
that is not to be sent at all raises :class:`NotSendable`. A reporter's
address stays in the :class:`Prepared` message and is scrubbed from what the
server answers (:func:`scrub`): it never reaches a row, a log or an alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email.headerregistry import Address
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.audit.checkpoints import checkpoint_mail, parse
from casemgr.audit.models import AuditCheckpoint
from casemgr.cases.models import Submission
from casemgr.crypto import ContactCipher
from casemgr.errors import NotFound
from casemgr.localtime import local
from casemgr.notices.models import Notice
from casemgr.outbox import xarf
from casemgr.outbox.mailer import mailbox
from casemgr.outbox.message import Attachment, compose, new_message
from casemgr.outbox.models import OutboxMessage
from casemgr.outbox.settings import OutboxSettings
from casemgr.reporter.feedback import status_counts
from casemgr.responses.links import url_for_letter

_rows = OutboxMessage.__table__
_letters = Notice.__table__


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
    checkpoints = AuditCheckpoint.__table__
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
            _letters.c.recipient_kind,
            _letters.c.recipient_name,
            _letters.c.sent_at,
            _letters.c.pdf,
            submissions.c.reference.label("submission_reference"),
            _rows.c.submission_id,
            checkpoints.c.line.label("checkpoint_line"),
        )
        .select_from(
            _rows.outerjoin(_letters, _letters.c.id == _rows.c.notice_id)
            .outerjoin(submissions, submissions.c.id == _rows.c.submission_id)
            .outerjoin(checkpoints, checkpoints.c.id == _rows.c.checkpoint_id)
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
    headers["Date"] = format_datetime(local(row.message_date, settings.timezone))
    headers["Message-ID"] = row.message_id
    if row.kind == "letter":
        if row.letter_reference is None:
            raise NotSendable("the letter was deleted")
        if row.sent_at is not None:
            raise NotSendable("the letter was delivered by hand already")
        letter = xarf.LetterFacts(
            kind=row.letter_kind,
            reference=row.letter_reference,
            recipient_kind=row.recipient_kind,
            recipient_name=row.recipient_name,
        )
        files = [Attachment(f"{row.letter_reference}.pdf", row.pdf)]
        if letter.carries_reports:
            # The link (one query) in the body and in each report; the cases
            # (one query) for the reports.
            letter = replace(
                letter, response_url=url_for_letter(session, row.notice_id, settings.links)
            )
            hotline = xarf.Hotline(settings.hotline_name, settings.hotline_email)
            cases = xarf.cases_of_letter(session, row.notice_id)
            files.extend(
                Attachment(name, data, xarf.CONTENT_TYPE)
                for name, data in xarf.attachments(letter, cases, hotline=hotline)
            )
        mail = settings.wording.letter(
            row.language,
            kind=row.letter_kind,
            reference=row.letter_reference,
            recipient=row.recipient_name,
            hotline=settings.hotline_name,
            hotline_email=settings.hotline_email,
            response_url=letter.response_url,
        )
        headers["To"] = Address(
            display_name=" ".join(row.recipient_name.split()), addr_spec=row.recipient or ""
        )
        headers["Subject"] = mail.subject
        return Prepared(row.recipient or "", compose(headers, mail.body, *files))
    if row.kind == "audit_checkpoint":
        if row.checkpoint_line is None:
            raise NotSendable("the checkpoint was deleted", alert=True)
        subject, text = checkpoint_mail(parse(row.checkpoint_line), settings.hotline_name)
        headers["To"] = row.recipient or ""
        headers["Subject"] = subject
        headers["Auto-Submitted"] = "auto-generated"
        return Prepared(row.recipient or "", compose(headers, text))
    if row.sealed_recipient is None or row.submission_reference is None:
        raise NotSendable("the reporter's contact was erased")
    try:
        contact = cipher.decrypt(row.sealed_recipient)
    except ValueError as exc:
        raise NotSendable(str(exc), alert=True) from None
    address = mailbox(contact)
    if address is None:
        raise NotSendable("the reporter's contact is not an e-mail address")
    language = feedback_language(row.language, settings)
    mail = settings.wording.feedback(
        language,
        reference=row.submission_reference,
        hotline=settings.hotline_name,
        hotline_email=settings.hotline_email,
        statuses=status_counts(session, row.submission_id, language),
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

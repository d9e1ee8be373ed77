"""Storing a message that came in, and what follows from it.

:func:`ingest` stores a message once (its Message-ID is unique: ``INSERT ...
ON CONFLICT DO NOTHING``, so the same message read twice, or by two
processes at once, is stored once and acted on once), then:

- a *bounce* of one of our letters marks that outbox message ``failed``
  (``casemgr.outbox.delivery.record_bounce``: the supervisors' alert and the
  assignees' notification of every delivery failure);
- a *reply* or an *auto-reply* matched to a letter or a case is threaded
  into every case it is about as a ``provider_reply`` event; the assignees
  are notified of a reply, never of an auto-reply;
- anything else waits in the supervisors' "unmatched mail" list, where
  :func:`attach` and :func:`discard` decide it (audited).

Services flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.audit.services import record
from casemgr.cases.models import Case
from casemgr.cases.services import record_event
from casemgr.database import dialect_insert, get_or_raise, is_valid_id
from casemgr.domain import SYSTEM_ACTOR, Actor
from casemgr.errors import Conflict, ValidationFailed
from casemgr.inbound import matching
from casemgr.inbound.models import (
    ATTACHED,
    AUTO_REPLY,
    BOUNCE,
    BY_BOUNCE,
    BY_HAND,
    DISCARDED,
    MATCHED,
    UNMATCHED,
    InboundMail,
    InboundMailCase,
)
from casemgr.inbound.parsing import TEXT_LIMIT, ParsedMail, parse
from casemgr.notifications.services import notify_assignees
from casemgr.outbox.delivery import record_bounce

EVENT = "provider_reply"


@dataclass(frozen=True)
class InboundSettings:
    prefix: str = "CM"  # CASE_REFERENCE_PREFIX
    text_limit: int = TEXT_LIMIT  # INBOUND_TEXT_LIMIT

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> InboundSettings:
        return cls(
            prefix=str(config.get("CASE_REFERENCE_PREFIX", "CM")),
            text_limit=int(config.get("INBOUND_TEXT_LIMIT", TEXT_LIMIT)),
        )


@dataclass
class Ingested:
    """What became of one message."""

    mail_id: int
    message_id: str
    duplicate: bool
    kind: str = ""
    state: str = ""
    case_ids: list[int] = field(default_factory=list)
    notified: int = 0
    failed_outbox_id: int | None = None
    attachments_dropped: int = 0

    def line(self) -> str:
        if self.duplicate:
            return f"duplicate: {self.message_id} was stored before as mail {self.mail_id}"
        what = f"stored mail {self.mail_id} ({self.kind}, {self.state})"
        if self.case_ids:
            what += f" on {len(self.case_ids)} case(s)"
        if self.failed_outbox_id is not None:
            what += f"; outbox message {self.failed_outbox_id} marked failed"
        if self.notified:
            what += f"; {self.notified} notified"
        if self.attachments_dropped:
            what += f"; {self.attachments_dropped} attachment(s) dropped unread"
        return what


def ingest(session: Session, raw: bytes, *, now: datetime, settings: InboundSettings) -> Ingested:
    """Store ``raw`` once and act on it; raises ``parsing.Unreadable``."""
    parsed = parse(raw, text_limit=settings.text_limit)
    _withhold_reporter(session, parsed)
    mail_id = _insert(session, parsed, now=now)
    if mail_id is None:
        existing = session.scalar(
            select(InboundMail.id).where(InboundMail.message_id == parsed.message_id)
        )
        return Ingested(existing or 0, parsed.message_id, duplicate=True)
    mail = session.get(InboundMail, mail_id)
    assert mail is not None
    result = Ingested(
        mail_id, parsed.message_id, False, attachments_dropped=len(parsed.attachments)
    )
    if parsed.kind == BOUNCE:
        _bounce(session, mail, parsed, now=now, result=result)
    else:
        found = matching.match(session, parsed.answers, parsed.subject, prefix=settings.prefix)
        if found is not None:
            mail.state, mail.matched_by = MATCHED, found.how
            result.case_ids = found.case_ids
            result.notified = _thread(
                session, mail, found.case_ids, found.notices, actor=SYSTEM_ACTOR, now=now
            )
    result.kind, result.state = mail.kind, mail.state
    session.flush()
    return result


REPORTER = "a reporter"


def _withhold_reporter(session: Session, parsed: ParsedMail) -> None:
    """Mail about a reporter's feedback e-mail (their reply, or its bounce) names the
    reporter, whose contact details are kept only encrypted, shown on demand and
    purged: none of it is stored. Not the address, and not the text either (a
    signature, a phone number), nor the attachments' names: only that it came."""
    answered = parsed.bounced_ids + parsed.answers if parsed.kind == BOUNCE else parsed.answers
    rows = matching.outbox_rows(session, answered)
    if not rows or rows[0].submission_id is None:
        return
    parsed.from_address, parsed.from_name = "", REPORTER
    parsed.text_truncated = False
    for index, attachment in enumerate(parsed.attachments):
        parsed.attachments[index] = replace(attachment, name="(withheld)")
    if parsed.kind != BOUNCE:
        parsed.text = (
            "(A reporter's reply to their feedback e-mail: its text is not kept, as it may "
            "identify them. A reporter with more to tell can use the report form.)"
        )
        parsed.subject = "Reply to a feedback e-mail"
    if parsed.kind == BOUNCE:
        parsed.text = (
            "(A bounce of a reporter's feedback e-mail: not kept, it names their address.)"
        )
        parsed.diagnostic = ""
        parsed.subject = "Undelivered feedback e-mail"


def _insert(session: Session, parsed: ParsedMail, *, now: datetime) -> int | None:
    """The new row's id; None when a message with this Message-ID is stored already."""
    row = session.execute(
        dialect_insert(session)(InboundMail)
        .values(
            message_id=parsed.message_id,
            from_address=parsed.from_address,
            from_name=parsed.from_name,
            subject=parsed.subject,
            sent_at=parsed.sent_at,
            received_at=now,
            kind=parsed.kind,
            state=UNMATCHED,
            text=parsed.text,
            text_truncated=parsed.text_truncated,
            attachments=[a.as_dict() for a in parsed.attachments],
            size=parsed.size,
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(InboundMail.id)
    ).first()
    return None if row is None else row[0]


def _bounce(
    session: Session, mail: InboundMail, parsed: ParsedMail, *, now: datetime, result: Ingested
) -> None:
    rows = matching.outbox_rows(session, parsed.bounced_ids + parsed.answers)
    if not rows:
        return  # not one of ours that we can tell: the supervisors' list
    row = rows[0]
    mail.state, mail.matched_by, mail.bounced_outbox_id = MATCHED, BY_BOUNCE, row.id
    cases = matching.letter_cases(session, row.notice_id) if row.notice_id is not None else []
    for case_id in cases:
        session.add(InboundMailCase(mail_id=mail.id, case_id=case_id, notice_id=row.notice_id))
    result.case_ids = cases
    if parsed.delivery_failed:
        detail = "the recipient's mail server returned it"
        if parsed.diagnostic:
            detail += f" ({parsed.diagnostic.removeprefix('Delivery status: ')[:400]})"
        if record_bounce(session, row, detail, now=now):
            result.failed_outbox_id = row.id


def _thread(
    session: Session,
    mail: InboundMail,
    case_ids: list[int],
    notices: Mapping[int, int],
    *,
    actor: Actor,
    now: datetime,
) -> int:
    """Link ``mail`` to the cases, write the history event on each, notify the
    assignees (not of an auto-reply). The number notified."""
    fields = {
        "mail_id": mail.id,
        "from": mail.sender[:300],
        "subject": mail.subject[:300],
        "attachments_dropped": len(mail.attachments),
    }
    if mail.kind == AUTO_REPLY:
        fields["auto_reply"] = True
    cases = session.scalars(select(Case).where(Case.id.in_(case_ids)).order_by(Case.id)).all()
    for case in cases:
        session.add(
            InboundMailCase(mail_id=mail.id, case_id=case.id, notice_id=notices.get(case.id))
        )
        record_event(session, case, EVENT, actor=actor, now=now, fields=fields)
    if mail.kind == AUTO_REPLY:
        return 0
    references = ", ".join(case.reference for case in cases[:5])
    more = f" and {len(cases) - 5} more" if len(cases) > 5 else ""
    sender = mail.sender or "an unknown sender"
    message = f"Reply from {sender} on {references}{more}: {mail.subject[:200]}"
    notice_ids = sorted(set(notices.values()))
    return notify_assignees(
        session,
        [case.id for case in cases],
        kind="provider_reply",
        key=f"reply:{mail.id}",
        message=message,
        now=now,
        notice_id=notice_ids[0] if len(notice_ids) == 1 else None,
    )


def find_case(session: Session, value: str) -> Case:
    """A case by reference (``CM-2026-000042``) or id; ValidationFailed on ``case``."""
    text = (value or "").strip()
    case = None
    if text.isdigit() and is_valid_id(int(text)):
        case = session.get(Case, int(text))
    elif text and len(text) <= 32:
        case = session.scalar(select(Case).where(Case.reference == text.upper()))
    if case is None:
        message = (
            gettext("Give a case reference or id.")
            if not text
            else gettext("There is no case %(case)s.", case=text[:40])
        )
        raise ValidationFailed({"case": [message]})
    return case


def _undecided(session: Session, mail_id: int) -> InboundMail:
    mail = get_or_raise(session, InboundMail, mail_id, what="mail")
    if mail.state != UNMATCHED:
        raise Conflict(gettext("This mail was dealt with already."))
    return mail


def attach(
    session: Session, mail_id: int, case_value: str, *, actor: Actor, now: datetime
) -> InboundMail:
    """A supervisor attaches unmatched mail to a case: it becomes a provider reply
    on it (audited). Raises NotFound, Conflict, ValidationFailed."""
    mail = _undecided(session, mail_id)
    case = find_case(session, case_value)
    mail.state, mail.matched_by = ATTACHED, BY_HAND
    mail.decided_by_id, mail.decided_at = actor.id, now
    _thread(session, mail, [case.id], {}, actor=actor, now=now)
    record(
        session,
        action="inbound_mail.attach",
        now=now,
        actor_id=actor.id,
        target_type="inbound_mail",
        target_id=mail.id,
        details={"case": case.reference, "message_id": mail.message_id[:255]},
    )
    session.flush()
    return mail


def discard(session: Session, mail_id: int, *, actor: Actor, now: datetime) -> InboundMail:
    """A supervisor discards unmatched mail (audited; the record stays)."""
    mail = _undecided(session, mail_id)
    mail.state = DISCARDED
    mail.decided_by_id, mail.decided_at = actor.id, now
    record(
        session,
        action="inbound_mail.discard",
        now=now,
        actor_id=actor.id,
        target_type="inbound_mail",
        target_id=mail.id,
        details={"message_id": mail.message_id[:255], "from": mail.from_address},
    )
    session.flush()
    return mail

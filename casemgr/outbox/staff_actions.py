"""A supervisor's decisions on a message that waits for one (``failed`` or ``unknown``).

Retry it (a new series of attempts, the same Message-ID), confirm it arrived
(``unknown`` only), or deliver it by hand instead (cancel). Each is audited
and resolves the alerts the message raised. These are people's actions on
a message, apart from what the job does to it (:mod:`casemgr.outbox.delivery`).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import update
from sqlalchemy.orm import Session

from casemgr.alerts.models import Alert
from casemgr.audit.services import record
from casemgr.cases.labels import label
from casemgr.database import get_or_raise
from casemgr.domain import Actor
from casemgr.errors import Conflict
from casemgr.notices.models import Notice
from casemgr.outbox.delivery import delivery_alert_prefix, describe_message, purge_recipient
from casemgr.outbox.models import CANCELLED, NEEDS_ATTENTION, QUEUED, SENT, UNKNOWN, OutboxMessage


def _resolve_alerts(session: Session, row: OutboxMessage, *, actor: Actor, now: datetime) -> None:
    """Every open alert about the message's delivery, resolved by ``actor``."""
    session.execute(
        update(Alert)
        .where(Alert.key.startswith(delivery_alert_prefix(row.id)), Alert.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )


def _audit(
    session: Session, action: str, row: OutboxMessage, actor: Actor, now: datetime, **details
) -> None:
    reference, _ = describe_message(session, row)
    record(
        session,
        action=action,
        now=now,
        actor_id=actor.id,
        target_type="outbox_message",
        target_id=row.id,
        details={"reference": reference, "message_id": row.message_id, **details},
    )


def retry(session: Session, message_id: int, *, actor: Actor, now: datetime) -> OutboxMessage:
    """Send a failed or unknown message again, from now, with a new series of
    attempts and the same Message-ID (audited). Raises NotFound, Conflict."""
    row = get_or_raise(session, OutboxMessage, message_id, what="outbox message")
    if row.status not in NEEDS_ATTENTION:
        raise Conflict(
            gettext(
                "only a failed or unknown message can be retried; this one is %(status)s",
                status=label(row.status, "outbox_status"),
            )
        )
    if row.kind == "feedback" and row.sealed_recipient is None:
        raise Conflict(gettext("the reporter's contact was erased: this message cannot be sent"))
    previous = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
    row.status = QUEUED
    row.attempts = 0
    row.next_attempt_at = now
    row.claim_token = None
    row.lease_expires_at = None
    row.handed_over_at = None
    _resolve_alerts(session, row, actor=actor, now=now)
    row.manual_retries += 1
    _audit(session, "outbox.retry", row, actor, now, previous=previous)
    session.flush()
    return row


def confirm_delivered(
    session: Session, message_id: int, *, actor: Actor, now: datetime
) -> OutboxMessage:
    """A message of unknown outcome that the recipient confirmed they received:
    ``sent``, and its letter too (audited). Raises NotFound, Conflict."""
    row = get_or_raise(session, OutboxMessage, message_id, what="outbox message")
    if row.status != UNKNOWN:
        raise Conflict(
            gettext(
                "only a message of unknown outcome can be confirmed; this one is %(status)s",
                status=label(row.status, "outbox_status"),
            )
        )
    row.status = SENT
    row.sent_at = now
    row.claim_token = None
    purge_recipient(row, now)
    if row.notice_id is not None:
        session.execute(
            update(Notice)
            .where(Notice.id == row.notice_id, Notice.sent_at.is_(None))
            .values(sent_at=now, sent_by_id=actor.id)
            .execution_options(synchronize_session=False)
        )
    _resolve_alerts(session, row, actor=actor, now=now)
    _audit(session, "outbox.confirm", row, actor, now)
    session.flush()
    return row


def cancel(session: Session, message_id: int, *, actor: Actor, now: datetime) -> OutboxMessage:
    """Stop e-mailing a failed or unknown message (audited): a letter goes to the
    list of letters to deliver by hand; a reporter's feedback is dropped and
    the copy of their contact erased. Raises NotFound, Conflict."""
    row = get_or_raise(session, OutboxMessage, message_id, what="outbox message")
    if row.status not in NEEDS_ATTENTION:
        raise Conflict(
            gettext(
                "only a failed or unknown message can be cancelled; this one is %(status)s",
                status=label(row.status, "outbox_status"),
            )
        )
    previous = row.status
    row.status = CANCELLED
    row.claim_token = None
    purge_recipient(row, now)
    if row.notice_id is not None:
        session.execute(
            update(Notice)
            .where(Notice.id == row.notice_id)
            .values(manual_delivery=True)
            .execution_options(synchronize_session=False)
        )
    _resolve_alerts(session, row, actor=actor, now=now)
    _audit(session, "outbox.cancel", row, actor, now, previous_status=previous)
    session.flush()
    return row

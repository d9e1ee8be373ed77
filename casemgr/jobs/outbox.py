"""The outbox run: send every e-mail that is due, over one SMTP connection.

``flask --app wsgi jobs run outbox``; the scheduler runs it every minute.
Messages are claimed ``CLAIM_SIZE`` at a time (``sending``, a lease, the
attempt counted, the Message-ID fixed) and that claim is committed; then,
for each message:

1. once the server has accepted the recipient, the job records that the
   message is being handed over and commits (with the answer to the
   message before: one commit a message), and stops if its claim was lost;
2. it sends the message and records the server's answer (``sent``, retry
   later, ``failed``, ``unknown``).

Before sending, claims whose lease expired are dealt with (see
:func:`casemgr.outbox.delivery.recover_expired`). A run stops at the first
message it cannot even connect for (the server is down: the messages
claimed after it are given back untried), after ``OUTBOX_BATCH_LIMIT``
messages, or when none is due. Why two runs at once never send one message
twice, and what SMTP itself cannot promise, is in
:mod:`casemgr.outbox`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from casemgr.crypto import ContactCipher
from casemgr.jobs.base import JobSummary
from casemgr.outbox.claims import claim, mark_handed_over, release
from casemgr.outbox.composing import NotSendable, prepare, scrub
from casemgr.outbox.delivery import give_up, record_attempt, recover_expired
from casemgr.outbox.mailer import Attempt, Mailer
from casemgr.outbox.models import FAILED, QUEUED, SENT, UNKNOWN
from casemgr.outbox.queries import due_count
from casemgr.outbox.settings import OutboxSettings

NAME = "outbox"
# Messages claimed at once. A claim is one statement and one commit for them
# all; those not tried when a run stops are given back.
CLAIM_SIZE = 20
log = logging.getLogger("casemgr.jobs")

_COUNT_OF_STATUS = {SENT: "sent", QUEUED: "deferred", FAILED: "failed", UNKNOWN: "unknown"}


class OutboxSummary(JobSummary):
    """What a run did: messages sent, deferred, failed, of unknown outcome."""

    def line(self) -> str:
        c = self.counts
        parts = [
            f"{c['sent']} sent",
            f"{c['deferred']} deferred",
            f"{c['failed']} failed",
            f"{c['unknown']} outcome unknown",
        ]
        parts.extend(
            f"{name} {value}"
            for name, value in sorted(c.items())
            if value and name not in ("sent", "deferred", "failed", "unknown")
        )
        return (
            f"{self.job} as of {self.now.isoformat()}: "
            + ", ".join(parts)
            + (f"; {self.failed} errors")
        )


def run(
    session: Session,
    now: datetime,
    app: Flask,
    *,
    mailer: Mailer | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> OutboxSummary:
    """Deliver as of ``now`` with the settings of ``app``; ``mailer`` replaces the SMTP client."""
    settings = OutboxSettings.from_app(app)
    return deliver(
        session,
        now,
        settings,
        cipher=app.extensions["casemgr.cipher"],
        mailer=mailer,
        monotonic=monotonic,
    )


def deliver(
    session: Session,
    now: datetime,
    settings: OutboxSettings,
    *,
    cipher: ContactCipher,
    mailer: Mailer | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> OutboxSummary:
    summary = OutboxSummary(NAME, now)
    summary.counts.update(recover_expired(session, now=now, settings=settings))
    session.commit()
    if not settings.smtp.host:
        summary.counts["waiting_for_SMTP_HOST"] = due_count(session, now)
        session.commit()
        return summary

    token = uuid.uuid4().hex
    started = monotonic()

    def clock() -> datetime:
        # The run's "now", moved on by the time the run has taken: leases and
        # back-offs are measured from when each step really happens.
        return now + timedelta(seconds=monotonic() - started)

    mailer = mailer or Mailer(settings.smtp)
    tried = 0
    try:
        while tried < settings.batch_limit:
            claimed = claim(
                session,
                now=clock(),
                lease=settings.lease,
                token=token,
                message_id_domain=settings.message_id_domain,
                limit=min(CLAIM_SIZE, settings.batch_limit - tried),
            )
            session.commit()
            if not claimed:
                break
            stop = False
            for position, message_id in enumerate(claimed):
                tried += 1
                attempt = _send_one(
                    session, message_id, token, mailer, settings, cipher, clock, summary
                )
                if attempt is not None and attempt.unreachable:
                    log.warning("%s: %s; the other messages wait", NAME, attempt.detail)
                    release(session, claimed[position + 1 :], token)
                    stop = True
                    break
            session.commit()  # the answer to the last message of the claim
            if stop:
                break
    finally:
        mailer.close()
    summary.counts["connections"] = mailer.connections
    return summary


def _send_one(
    session: Session,
    message_id: int,
    token: str,
    mailer: Mailer,
    settings: OutboxSettings,
    cipher: ContactCipher,
    clock: Callable[[], datetime],
    summary: OutboxSummary,
) -> Attempt | None:
    try:
        prepared = prepare(session, message_id, settings=settings, cipher=cipher)
    except NotSendable as reason:
        status = give_up(session, message_id, token, reason, now=clock())
        summary.counts["failed" if status == FAILED else "cancelled"] += 1
        return None
    except Exception as exc:
        # A message that cannot be composed is a bug: count it as a failed attempt.
        # (A database error here fails the next statement, and so the run.)
        log.exception("%s: message %s could not be composed", NAME, message_id)
        summary.failures.append(f"message {message_id}: {type(exc).__name__}: {exc}")
        attempt = Attempt("transient", f"could not compose the message: {type(exc).__name__}")
        _record(session, message_id, token, attempt, settings, clock, summary)
        return None

    def before_data() -> bool:
        # Committed with the answer to the message before: one commit a message.
        held = mark_handed_over(session, message_id, token, now=clock())
        session.commit()
        return held

    attempt = mailer.send(
        settings.sender, prepared.recipient, prepared.payload, before_data=before_data
    )
    if prepared.secret:
        attempt = replace(attempt, detail=scrub(attempt.detail, prepared.secret))
    _record(session, message_id, token, attempt, settings, clock, summary)
    return attempt


def _record(session, message_id, token, attempt, settings, clock, summary) -> None:
    # Not committed here: with the next message's hand-over, or at the end of the claim.
    status = record_attempt(session, message_id, token, attempt, now=clock(), settings=settings)
    if status is None:
        summary.counts["claim_lost"] += 1
        log.warning(
            "%s: message %s was taken back before its answer was recorded", NAME, message_id
        )
    else:
        summary.counts[_COUNT_OF_STATUS.get(status, status)] += 1
    if attempt.outcome != "sent":
        log.info("%s: message %s %s: %s", NAME, message_id, attempt.outcome, attempt.detail)

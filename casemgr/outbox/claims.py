"""Claims: which job process may send a message, and the mark that it is being sent.

A claim (``sending``, a lease, a random token) is what keeps two job
processes from sending one message; the hand-over mark, committed just
before the message goes to the server, is what tells afterwards whether it
may have been delivered (see :mod:`casemgr.outbox`). Every write about an
attempt is conditional on the claim, so the statements that take, test and
give back a claim live together here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import make_msgid

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session

from casemgr.database import UTCDateTime
from casemgr.outbox.models import QUEUED, SENDING, UNKNOWN, OutboxMessage

_rows = OutboxMessage.__table__


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


def held_by_claim(session: Session, message_id: int, token: str) -> OutboxMessage | None:
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

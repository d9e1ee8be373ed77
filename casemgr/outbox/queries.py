"""Reading the outbox: the counts and lists of the supervisors' pages and menu.

Queries only, nothing here changes a row; the job reads :func:`due_count`
when no SMTP server is configured.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from casemgr.notices.models import Notice, NoticeCase
from casemgr.outbox.models import NEEDS_ATTENTION, QUEUED, SENDING, SENT, STATUSES, OutboxMessage


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


def _with_subjects(statement: Select) -> Select:
    return statement.options(
        selectinload(OutboxMessage.notice), selectinload(OutboxMessage.submission)
    )


def list_messages(
    session: Session, statuses: tuple[str, ...], *, limit: int = 100
) -> list[OutboxMessage]:
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

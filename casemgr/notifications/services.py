"""Notifying staff, and reading and marking what they were notified of.

Functions take the session and ``now``; they flush but never commit. Each
notification has a ``key`` unique per person: notifying is
``INSERT ... ON CONFLICT DO NOTHING``, so a job run twice (or two at once)
notifies once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, selectinload

from casemgr.auth.models import User
from casemgr.cases.models import Case, CaseEvent
from casemgr.cases.workflow import Actor, Status
from casemgr.errors import NotFound
from casemgr.notices.models import Notice
from casemgr.notifications.models import Notification


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def notify(
    session: Session,
    user_ids: Iterable[int],
    *,
    kind: str,
    key: str,
    message: str,
    now: datetime,
    case_id: int | None = None,
    notice_id: int | None = None,
    step_at: datetime | None = None,
) -> int:
    """Notify each of ``user_ids`` once per ``key``; the number of new notifications."""
    rows = [
        {
            "user_id": user_id,
            "kind": kind,
            "key": key[:200],
            "message": message,
            "case_id": case_id,
            "notice_id": notice_id,
            "step_at": step_at,
            "created_at": now,
        }
        for user_id in sorted(set(user_ids))
    ]
    if not rows:
        return 0
    insert = _insert(session)
    result = session.execute(
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(Notification.id)
    )
    return len(result.all())


def _active(session: Session, user_ids: Iterable[int | None]) -> list[int]:
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return []
    return list(session.scalars(select(User.id).where(User.id.in_(ids), User.active)).all())


def notify_assigned(
    session: Session, case: Case, event: CaseEvent, *, actor: Actor, now: datetime
) -> int:
    """The new assignee of ``case``, unless they took it themselves."""
    if case.assignee_id is None or case.assignee_id == actor.id:
        return 0
    by = session.get(User, actor.id) if actor.id is not None else None
    who = by.name if by is not None else "The system"
    return notify(
        session,
        _active(session, [case.assignee_id]),
        kind="assigned",
        key=f"assigned:{case.id}:{event.id}",
        message=f"{who} assigned {case.reference} to you.",
        now=now,
        case_id=case.id,
        step_at=now,
    )


def notify_assignees(
    session: Session,
    case_ids: Sequence[int],
    *,
    kind: str,
    key: str,
    message: str,
    now: datetime,
    notice_id: int | None = None,
) -> int:
    """Each active assignee of the cases ``case_ids``, once."""
    if not case_ids:
        return 0
    rows = session.execute(
        select(Case.id, Case.assignee_id).where(
            Case.id.in_(sorted(set(case_ids))), Case.assignee_id.is_not(None)
        )
    ).all()
    made = 0
    by_user: dict[int, list[int]] = {}
    for case_id, assignee_id in rows:
        by_user.setdefault(assignee_id, []).append(case_id)
    for user_id in _active(session, by_user):
        cases = by_user[user_id]
        made += notify(
            session,
            [user_id],
            kind=kind,
            key=key,
            message=message,
            now=now,
            case_id=cases[0] if len(cases) == 1 else None,
            notice_id=notice_id,
        )
    return made


def notify_escalation(session: Session, notice: Notice, *, now: datetime) -> int:
    """The assignees of the cases an escalation letter covers."""
    case_ids = [link.case_id for link in notice.links]
    return notify_assignees(
        session,
        case_ids,
        kind="escalation",
        key=f"escalation:{notice.reference}",
        message=(
            f"Escalation {notice.reference} to {notice.recipient_name}: the removal of "
            f"{len(case_ids)} URL(s) is still not confirmed after the reminders."
        ),
        now=now,
        notice_id=notice.id,
    )


def notify_overdue(session: Session, *, now: datetime, limit: int = 5000) -> int:
    """The assignee of each open case past its due time, once per (case, due time).

    A case given a new due time (a new stage, a reopening) is notified again
    when that one passes. Unassigned cases are on the queue's overdue view.
    """
    already = exists().where(
        Notification.case_id == Case.id,
        Notification.kind == "overdue",
        Notification.step_at == Case.due_at,
    )
    rows = session.execute(
        select(Case.id, Case.reference, Case.assignee_id, Case.due_at)
        .join(User, User.id == Case.assignee_id)
        .where(Case.status != Status.CLOSED, Case.due_at < now, User.active, ~already)
        .order_by(Case.due_at, Case.id)
        .limit(limit)
    ).all()
    made = 0
    for case_id, reference, assignee_id, due_at in rows:
        made += notify(
            session,
            [assignee_id],
            kind="overdue",
            key=f"overdue:{case_id}:{due_at.isoformat()}",
            message=f"{reference} is overdue: it was due {due_at:%Y-%m-%d %H:%M} UTC.",
            now=now,
            case_id=case_id,
            step_at=due_at,
        )
    session.flush()
    return made


# -------------------------------------------------------------------- reading


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def list_for(
    session: Session, user_id: int, *, unread_only: bool = False, limit: int = 200
) -> list[Notification]:
    """A person's notifications, newest first (unread ones only if asked)."""
    statement = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .options(selectinload(Notification.case), selectinload(Notification.notice))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return list(session.scalars(statement).all())


def mark_read(session: Session, user_id: int, notification_id: int, *, now: datetime) -> None:
    """Mark one of ``user_id``'s notifications read; NotFound for anyone else's."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound(f"no notification with id {notification_id}")
    if notification.read_at is None:
        notification.read_at = now
    session.flush()


def mark_all_read(session: Session, user_id: int, *, now: datetime) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())

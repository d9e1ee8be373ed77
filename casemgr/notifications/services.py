"""Notifying staff, and reading and marking what they were notified of.

Functions take the session and ``now``; they flush but never commit. Each
notification has a ``key`` unique per person: notifying is
``INSERT ... ON CONFLICT DO NOTHING``, so a job run twice (or two at once)
notifies once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo

from sqlalchemy import Row, func, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased, selectinload

from casemgr.auth.models import User
from casemgr.cases.models import Case, CaseEvent
from casemgr.cases.states import Status
from casemgr.database import dialect_insert, get_or_raise
from casemgr.domain import Actor, Role
from casemgr.errors import NotFound
from casemgr.localtime import format_datetime
from casemgr.notices.models import Notice
from casemgr.notifications.models import Notification


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
        _row(
            user_id,
            kind=kind,
            key=key,
            message=message,
            now=now,
            case_id=case_id,
            notice_id=notice_id,
            step_at=step_at,
        )
        for user_id in sorted(set(user_ids))
    ]
    return _insert_new(session, rows)


def _row(
    user_id: int,
    *,
    kind: str,
    key: str,
    message: str,
    now: datetime,
    case_id: int | None = None,
    notice_id: int | None = None,
    step_at: datetime | None = None,
) -> dict:
    return {
        "user_id": user_id,
        "kind": kind,
        "key": key[:200],
        "message": message,
        "case_id": case_id,
        "notice_id": notice_id,
        "step_at": step_at,
        "created_at": now,
    }


# Rows per INSERT: 8 values each, well under the bind-parameter limits of
# SQLite (32766) and PostgreSQL (65535).
_INSERT_CHUNK = 500


def _insert_new(session: Session, rows: Sequence[dict]) -> int:
    """Insert the notifications ``rows`` a person does not have yet (by ``key``), in
    a few multi-row statements; the number inserted."""
    insert = dialect_insert(session)
    made = 0
    for start in range(0, len(rows), _INSERT_CHUNK):
        result = session.execute(
            insert(Notification)
            .values(rows[start : start + _INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=["user_id", "key"])
            .returning(Notification.id)
        )
        made += len(result.all())
    return made


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


def supervisors_for_unassigned_cases(session: Session) -> list[int]:
    """Who hears of an overdue case that no active member of staff has: the ids of
    the active supervisors, or, where there is none, of the active admins.

    Giving cases out is the supervisors' work. Admins outrank them (they may do
    all a supervisor does) but their work is accounts and settings, and the
    overdue cases of a busy hotline would bury the notifications they need; so
    they are told only when no active supervisor exists (a small hotline whose
    admin also supervises), and an overdue case is never left with nobody told.
    """
    rows = session.execute(
        select(User.id, User.role).where(User.active, User.role.in_([Role.SUPERVISOR, Role.ADMIN]))
    ).all()
    supervisors = sorted(user_id for user_id, role in rows if role == Role.SUPERVISOR)
    return supervisors or sorted(user_id for user_id, _ in rows)


def notify_overdue(
    session: Session, *, now: datetime, limit: int = 5000, timezone: tzinfo = UTC
) -> int:
    """Tell who must act on each open case past its due time, once per (case, due time).

    That is the case's assignee; a case without an active one (nobody took it,
    or its assignee's account was deactivated) goes to every active supervisor
    (:func:`supervisors_for_unassigned_cases`). A case is taken up again when
    its due time changes (a new stage, a reopening), when it is given to an
    active assignee not yet told, and when everyone told of it was deactivated.

    Two queries whatever the number of cases (the supervisors, and at most
    ``limit`` cases, oldest due first, that someone must still be told of) and
    one INSERT ... ON CONFLICT DO NOTHING per 500 notifications, so a run
    repeated, or two at once, notify once. Returns the number of new notifications.
    Their text gives the due time in ``timezone`` (HOTLINE_TIMEZONE), the zone named.
    """
    supervisors = supervisors_for_unassigned_cases(session)
    assignee = aliased(User, name="assignee")
    told = aliased(User, name="told")
    overdue_told = select(Notification.id).where(
        Notification.case_id == Case.id,
        Notification.kind == "overdue",
        Notification.step_at == Case.due_at,
    )
    assignee_told = overdue_told.where(Notification.user_id == Case.assignee_id).exists()
    someone_active_told = (
        overdue_told.join(told, told.id == Notification.user_id).where(told.active).exists()
    )
    has_active_assignee = assignee.active.is_(True)
    statement = (
        select(
            Case.id,
            Case.reference,
            Case.due_at,
            Case.assignee_id,
            assignee.name.label("assignee_name"),
            has_active_assignee.label("has_active_assignee"),
        )
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .where(
            Case.status != Status.CLOSED,
            Case.due_at < now,
            sql_case((has_active_assignee, ~assignee_told), else_=~someone_active_told),
        )
        .order_by(Case.due_at, Case.id)
        .limit(limit)
    )
    if not supervisors:
        # Nobody to tell of the others: let them not fill the run's ``limit``.
        statement = statement.where(has_active_assignee)
    rows = []
    for overdue in session.execute(statement):
        recipients = [overdue.assignee_id] if overdue.has_active_assignee else supervisors
        rows.extend(
            _row(
                user_id,
                kind="overdue",
                key=f"overdue:{overdue.id}:{overdue.due_at.isoformat()}",
                message=_overdue_message(overdue, timezone),
                now=now,
                case_id=overdue.id,
                step_at=overdue.due_at,
            )
            for user_id in recipients
        )
    made = _insert_new(session, rows)
    session.flush()
    return made


def _overdue_message(overdue: Row, timezone: tzinfo) -> str:
    due = f"it was due {format_datetime(overdue.due_at, timezone)}."
    if overdue.has_active_assignee:
        return f"{overdue.reference} is overdue: {due}"
    if overdue.assignee_id is None:
        return f"{overdue.reference} is overdue and nobody is assigned to it: {due}"
    return (
        f"{overdue.reference} is overdue and its assignee, {overdue.assignee_name}, "
        f"is deactivated: {due}"
    )


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
    notification = get_or_raise(session, Notification, notification_id, what="notification")
    if notification.user_id != user_id:
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

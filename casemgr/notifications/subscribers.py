"""Who is told in the app when a case is assigned or a letter escalates.

Connected by :func:`subscribe` (called from ``create_app``); runs inside the
sender's transaction (see :mod:`casemgr.events`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from casemgr import events
from casemgr.cases.states import Action
from casemgr.notifications import services as notifications

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from casemgr.cases.models import Case, CaseEvent
    from casemgr.domain import Actor
    from casemgr.notices.models import Notice


def tell_assignee(
    session: Session, *, case: Case, event: CaseEvent, actor: Actor, now: datetime, **_: object
) -> None:
    if event.action == Action.ASSIGN:
        notifications.notify_assigned(session, case, event, actor=actor, now=now)


def tell_escalation(session: Session, *, notice: Notice, now: datetime, **_: object) -> None:
    if notice.kind == "escalation":
        notifications.notify_escalation(session, notice, now=now)


def subscribe() -> None:
    events.case_acted.connect(tell_assignee)
    events.letter_stored.connect(tell_escalation)

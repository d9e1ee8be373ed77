"""What happens, in the same transaction, after a letter is stored or a case acted on.

Two calls from other features lead here, so that their modules change by
one line each:

- ``casemgr.notices.services.store_letter`` -> :func:`after_letter_stored`:
  the letter's e-mail is queued (or the letter marked for manual delivery),
  and an escalation notifies the assignees of its cases;
- ``casemgr.cases.services.apply_action`` -> :func:`after_case_action`: a
  closing may queue the reporter's feedback, an assignment notifies the new
  assignee.

The services are imported inside the functions: this module is imported by
``casemgr.cases.services``, which the services import in turn.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from casemgr.cases.models import Case, CaseEvent
    from casemgr.cases.workflow import Actor
    from casemgr.notices.models import Notice


def after_letter_stored(session: Session, notice: Notice, *, now: datetime) -> None:
    from casemgr.notifications import services as notifications
    from casemgr.outbox import services as outbox

    outbox.enqueue_letter(session, notice, now=now)
    if notice.kind == "escalation":
        notifications.notify_escalation(session, notice, now=now)


def after_case_action(
    session: Session, case: Case, event: CaseEvent, *, actor: Actor, now: datetime
) -> None:
    from casemgr.cases.workflow import Action, Status

    if event.to_status == Status.CLOSED and event.from_status != Status.CLOSED:
        from casemgr.outbox import services as outbox

        outbox.enqueue_feedback(session, case, now=now)
    elif event.action == Action.ASSIGN:
        from casemgr.notifications import services as notifications

        notifications.notify_assigned(session, case, event, actor=actor, now=now)

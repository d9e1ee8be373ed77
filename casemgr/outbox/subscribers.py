"""What the outbox does when a letter is stored or a case acted on.

Connected by :func:`subscribe` (called from ``create_app``); runs inside the
sender's transaction (see :mod:`casemgr.events`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from casemgr import events
from casemgr.cases.states import Status
from casemgr.outbox.queueing import enqueue_feedback, enqueue_letter

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from casemgr.cases.models import Case, CaseEvent
    from casemgr.notices.models import Notice


def queue_letter(session: Session, *, notice: Notice, now: datetime, **_: object) -> None:
    """The letter's e-mail is queued, or the letter marked for delivery by hand."""
    enqueue_letter(session, notice, now=now)


def queue_feedback(
    session: Session, *, case: Case, event: CaseEvent, now: datetime, **_: object
) -> None:
    """A case that closes may owe its reporter the feedback they asked for."""
    if event.to_status == Status.CLOSED and event.from_status != Status.CLOSED:
        enqueue_feedback(session, case, now=now)


def subscribe() -> None:
    events.letter_stored.connect(queue_letter)
    events.case_acted.connect(queue_feedback)

"""What the partners feature does when a case is forwarded.

Connected by :func:`subscribe` (called from ``create_app``); runs inside the
sender's transaction (see :mod:`casemgr.events`), so the delivery is queued
with the forwarding or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from casemgr import events
from casemgr.cases.states import Action
from casemgr.partners.services import queue_delivery

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from casemgr.cases.models import Case, CaseEvent


def queue_forwarding(
    session: Session, *, case: Case, event: CaseEvent, now: datetime, **_: object
) -> None:
    """A case forwarded to a partner that takes cases over its API is queued for it."""
    if event.action == Action.FORWARD_TO_PARTNER and case.partner_id is not None:
        queue_delivery(session, case, now=now)


def subscribe() -> None:
    events.case_acted.connect(queue_forwarding)

"""What reads inbound mail: the supervisors' list, one message, a case's replies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casemgr.errors import NotFound
from casemgr.inbound.models import UNMATCHED, InboundMail, InboundMailCase


def unmatched(session: Session, *, limit: int = 200) -> list[InboundMail]:
    """Mail waiting for a supervisor, oldest first."""
    return list(
        session.scalars(
            select(InboundMail)
            .where(InboundMail.state == UNMATCHED)
            .order_by(InboundMail.received_at, InboundMail.id)
            .limit(limit)
        ).all()
    )


def unmatched_count(session: Session) -> int:
    return (
        session.scalar(select(func.count(InboundMail.id)).where(InboundMail.state == UNMATCHED))
        or 0
    )


def case_mail(session: Session, case_id: int, mail_id: int) -> InboundMail:
    """Mail ``mail_id`` as threaded into case ``case_id``; NotFound otherwise."""
    mail = session.scalar(
        select(InboundMail)
        .join(InboundMailCase, InboundMailCase.mail_id == InboundMail.id)
        .where(InboundMailCase.case_id == case_id, InboundMail.id == mail_id)
    )
    if mail is None:
        raise NotFound(f"no reply {mail_id} on case {case_id}")
    return mail

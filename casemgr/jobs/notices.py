"""The notice run: takedown notices to hosting providers, and referral letters.

Every ``notice_pending`` case is gathered per hosting provider into one notice
letter per provider per run; its cases move to ``notice_sent`` through the
workflow (``send_notice``, taken by the system actor), which sets their
takedown due date and first reminder. A case whose provider was deleted or
deactivated cannot be sent: it stays pending, is counted as
``needs_provider`` and raises one alert for supervisors.

With ``NOTICE_REFERRALS`` (the default) the run also writes one referral
letter per partner hotline or police unit about the cases forwarded or
referred to it since its last referral.

One transaction per letter (see :mod:`casemgr.jobs.base`); how two servers
running this at once never make a letter twice is explained in
:mod:`casemgr.notices.locks`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from casemgr.jobs.base import JobSummary, flag_orphans, run_batch
from casemgr.notices.letters import cases_awaiting_notice, send_notice_letter
from casemgr.notices.models import Notice
from casemgr.notices.referrals import cases_awaiting_referral, send_referral_letter
from casemgr.notices.wording import NoticeSettings, Renderer

NAME = "notices"


def run(
    session: Session, now: datetime, app: Flask, *, renderer: Renderer | None = None
) -> JobSummary:
    """Run as of ``now`` with the settings of ``app``; ``renderer`` replaces the PDF renderer."""
    return send_all(session, now, NoticeSettings.from_app(app, renderer=renderer))


def send_all(session: Session, now: datetime, settings: NoticeSettings) -> JobSummary:
    summary = JobSummary(NAME, now)
    by_provider, orphans = cases_awaiting_notice(session)
    awaiting = cases_awaiting_referral(session) if settings.referrals else []
    session.commit()  # the reading is done: each letter has a transaction of its own

    _send_letters(session, summary, "notice", by_provider, send_notice_letter, now, settings)
    flag_orphans(
        session, summary, orphans, kind="needs_provider", label="cases without a provider", now=now
    )

    by_recipient: dict[int, list[int]] = defaultdict(list)
    for case_id, recipient_id in awaiting:
        if recipient_id is not None:
            by_recipient[recipient_id].append(case_id)
    _send_letters(session, summary, "referral", by_recipient, send_referral_letter, now, settings)
    return summary


def _send_letters(
    session: Session,
    summary: JobSummary,
    kind: str,
    case_ids_by_recipient: dict[int, list[int]],
    send: Callable[..., Notice | None],
    now: datetime,
    settings: NoticeSettings,
) -> None:
    """One letter of ``kind`` per recipient, each in its own transaction (``run_batch``)."""
    for recipient_id, case_ids in sorted(case_ids_by_recipient.items()):

        def batch(recipient_id: int = recipient_id, case_ids: list[int] = case_ids):
            notice = send(session, recipient_id, case_ids, now=now, settings=settings)
            return notice and (notice.reference, notice.case_count)

        made = run_batch(
            session,
            summary,
            label=f"{kind} to organisation {recipient_id}",
            lock=(NAME, recipient_id),
            work=batch,
        )
        if made:
            summary.add_letter(kind, *made)

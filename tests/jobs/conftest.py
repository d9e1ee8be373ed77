"""Helpers for the job tests: cases queued for a notice to a chosen provider,
running a job as of any moment, and reading letters back."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casemgr import context
from casemgr.alerts.models import Alert
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.jobs import notices as notices_job
from casemgr.jobs import reminders as reminders_job
from casemgr.notices.models import Notice, NoticeCase
from tests import factories


def pdf_text(data: bytes) -> str:
    """The text of every page; lines of a long URL are joined again."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    return "".join(text.split())


def act(case: Case, action: str, fields: dict, *, user, at: datetime) -> None:
    cases.apply_action(
        db.session, case, action, fields, actor=user.actor, now=at, timings=context.timings()
    )
    db.session.commit()


@pytest.fixture
def queue(app, analyst):
    """``queue(provider)``: a new case queued for a notice to ``provider``."""

    def make(provider, *, url: str | None = None, at: datetime | None = None) -> Case:
        case = factories.case("action_required", by=analyst, url=url)
        act(
            case,
            "request_notice",
            {"provider_id": provider.id},
            user=analyst,
            at=at or context.now(),
        )
        return case

    return make


def run_notices(app, now: datetime, **kwargs):
    return notices_job.run(db.session, now, app, **kwargs)


def run_reminders(app, now: datetime, **kwargs):
    return reminders_job.run(db.session, now, app, **kwargs)


def letters(kind: str | None = None) -> list[Notice]:
    statement = select(Notice).order_by(Notice.id)
    if kind:
        statement = statement.where(Notice.kind == kind)
    return list(db.session.scalars(statement).all())


def links() -> list[NoticeCase]:
    return list(db.session.scalars(select(NoticeCase).order_by(NoticeCase.case_id)).all())


def alerts(kind: str | None = None) -> list[Alert]:
    statement = select(Alert).order_by(Alert.id)
    if kind:
        statement = statement.where(Alert.kind == kind)
    return list(db.session.scalars(statement).all())

"""A letter sent to a provider, with the token of its response link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.notices.models import Notice
from casemgr.responses.models import ResponseLink
from tests import factories
from tests.api.conftest import anonymous, as_analyst, document, token_for  # noqa: F401
from tests.jobs.conftest import queue, run_notices  # noqa: F401 - queue is a fixture


@dataclass
class Sent:
    notice: Notice
    token: str
    cases: list[Case]

    @property
    def path(self) -> str:
        return f"/respond/{self.token}"


def token_of(notice: Notice) -> str:
    nonce = db.session.scalar(select(ResponseLink.nonce).where(ResponseLink.notice_id == notice.id))
    return context.response_links().token(nonce)


@pytest.fixture
def provider(app):
    return factories.organisation(name="Example Hosting Ltd", email="abuse@hosting.example")


@pytest.fixture
def send_letter(app, queue, provider):  # noqa: F811 - the fixture imported above
    """``send_letter(count)``: a notice about ``count`` new cases, sent an hour ago."""

    def send(count: int = 2, *, to=None) -> Sent:
        to = to or provider
        made = [
            queue(
                to,
                url=f"http://img{n}.hosting.example/abuse/{n}.jpg",
                at=context.now() - timedelta(hours=2),
            )
            for n in range(count)
        ]
        summary = run_notices(app, context.now() - timedelta(hours=1))
        notice = db.session.scalar(
            select(Notice).where(
                Notice.reference.in_(summary.letters["notice"]), Notice.recipient_id == to.id
            )
        )
        for case in made:
            db.session.refresh(case)
        return Sent(notice, token_of(notice), made)

    return send

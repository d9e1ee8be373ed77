"""A letter sent to a provider (two cases, an assignee), and the corpus of
real-shaped messages (tests/inbound/corpus/*.eml) filled in with its Message-ID
and references."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.inbound.services import InboundSettings, Ingested, ingest
from casemgr.notices.models import Notice
from casemgr.outbox.models import SENT, OutboxMessage
from tests.conftest import NOW
from tests.jobs.conftest import (
    queue,  # noqa: F401 - a fixture
    run_notices,
)

CORPUS = Path(__file__).parent / "corpus"
LETTER_MESSAGE_ID = "<letter.0001@hotline.example.org>"


@dataclass
class Letter:
    notice: Notice
    outbox: OutboxMessage
    cases: list[Case]

    @property
    def case_ids(self) -> list[int]:
        return [case.id for case in self.cases]


@pytest.fixture
def letter(app, make, queue, analyst):  # noqa: F811 - the queue fixture imported above
    """A notice about two cases, both assigned to ``analyst``, sent by the outbox."""
    provider = make.organisation(name="Provider 0", email="abuse0@provider0.example")
    cases = [queue(provider), queue(provider)]
    run_notices(app, NOW)
    notice = db.session.scalars(select(Notice)).one()
    row = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.notice_id == notice.id)
    ).one()
    row.message_id = LETTER_MESSAGE_ID
    row.message_date = NOW
    row.status = SENT
    row.sent_at = NOW
    for case in cases:
        case.assignee_id = analyst.id
    db.session.commit()
    return Letter(notice, row, cases)


def corpus(name: str, letter: Letter | None = None, **more: str) -> bytes:
    """The message ``name``.eml with the letter's Message-ID and references put in."""
    raw = (CORPUS / f"{name}.eml").read_bytes()
    values = {
        "MESSAGE_ID": letter.outbox.message_id if letter else "<nothing@nowhere.example>",
        "NOTICE_REFERENCE": letter.notice.reference if letter else "CM-N-2026-999999",
        "CASE_REFERENCE": letter.cases[0].reference if letter else "CM-2026-999999",
        **more,
    }
    for key, value in values.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", value.encode())
    return raw


def secrets_in(raw: bytes) -> list[bytes]:
    """The bytes of every base64 attachment in ``raw`` (what must never be stored)."""
    found = []
    for block in re.findall(rb"\n\n((?:[A-Za-z0-9+/=]{40,}\n)+)", raw):
        found.append(base64.b64decode(block))
    return found


def store(app, raw: bytes, **kwargs) -> Ingested:
    result = ingest(
        db.session,
        raw,
        now=kwargs.pop("now", context.now()),
        settings=InboundSettings.from_config(app.config),
    )
    db.session.commit()
    return result

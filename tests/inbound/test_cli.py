"""``flask --app wsgi mail ingest``: one message on standard input."""

from __future__ import annotations

from sqlalchemy import func, select

from casemgr.extensions import db
from casemgr.inbound.models import InboundMail
from tests.inbound.conftest import corpus


def ingest(runner, data: bytes, *args: str):
    return runner.invoke(args=["mail", "ingest", *args], input=data)


def test_a_message_is_stored_then_found_a_duplicate(runner, letter):
    raw = corpus("gmail_reply", letter)
    first = ingest(runner, raw, "--now", "2026-11-30T11:00Z")
    assert first.exit_code == 0, first.output
    assert "stored mail 1 (reply, matched) on 2 case(s)" in first.output

    again = ingest(runner, raw)
    assert again.exit_code == 0
    assert "duplicate" in again.output
    mail = db.session.scalars(select(InboundMail)).one()
    assert mail.received_at.isoformat() == "2026-11-30T11:00:00+00:00"


def test_attachments_dropped_are_said(runner, letter):
    result = ingest(runner, corpus("attachment_reply", letter))
    assert result.exit_code == 0 and "2 attachment(s) dropped unread" in result.output


def test_unreadable_input_exits_non_zero_with_a_message(runner):
    result = ingest(runner, b"")
    assert result.exit_code == 65
    assert "not stored: the input is empty" in result.output
    assert db.session.scalar(select(func.count(InboundMail.id))) == 0


def test_a_bad_now_is_refused(runner):
    result = ingest(runner, b"Subject: x\n\nbody\n", "--now", "yesterday")
    assert result.exit_code == 2 and "--now" in result.output

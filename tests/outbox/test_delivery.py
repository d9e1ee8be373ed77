"""Delivery to a real SMTP server on 127.0.0.1: what arrives, and every way it can go wrong."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr.alerts.models import Alert
from casemgr.extensions import db
from casemgr.jobs import outbox as outbox_job
from casemgr.notices.models import Notice
from casemgr.outbox.models import CANCELLED, FAILED, QUEUED, SENT, UNKNOWN
from tests.conftest import NOW
from tests.outbox.conftest import HOTLINE_DOMAIN, messages, run_outbox

MINUTE = timedelta(minutes=1)


def pdf_of(notice: Notice) -> bytes:
    return db.session.scalar(select(Notice.pdf).where(Notice.id == notice.id))


# ------------------------------------------------------------------- delivered


def test_a_letter_arrives_with_its_pdf_intact(app, smtp, letters):
    smtp.start()
    (notice,) = letters(1)
    [row] = messages()
    assert row.status == QUEUED and row.message_id is None

    summary = run_outbox(app, NOW)

    assert summary.counts["sent"] == 1
    [received] = smtp.received
    message = received.message
    assert received.mail_from == f"notices@{HOTLINE_DOMAIN}"
    assert received.rcpt_tos == ["abuse0@provider0.example"]
    assert message["Subject"] == f"Takedown notice {notice.reference}"
    assert message["To"].addresses[0].addr_spec == "abuse0@provider0.example"
    # The PDF first, then one X-ARF report per URL (tests/outbox/test_xarf.py).
    attachment, *reports = message.iter_attachments()
    assert [r.get_content_type() for r in reports] == ["application/json"] * notice.case_count
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{notice.reference}.pdf"
    data = attachment.get_content()
    assert hashlib.sha256(data).hexdigest() == notice.sha256
    assert data == pdf_of(notice)
    body = message.get_body(("plain",)).get_content()
    assert notice.reference in body and "hotline@example.org" in body

    [row] = messages()
    assert row.status == SENT and row.attempts == 1
    assert row.message_id == message["Message-ID"]
    assert row.message_id.endswith(f"@{HOTLINE_DOMAIN}>")
    assert row.smtp_reply == "2.0.0 Ok: queued as Q1"
    db.session.refresh(notice)
    assert notice.sent_at == NOW and notice.sent_by_id is None and notice.delivery == "sent"


def test_a_khmer_recipient_gets_the_khmer_text(app, smtp, letters):
    smtp.start()
    (notice,) = letters(1, language="km")
    run_outbox(app, NOW)
    message = smtp.received[0].message
    assert message["Subject"] == f"សេចក្តីជូនដំណឹងស្នើសុំលុបចេញ {notice.reference}"
    body = message.get_body(("plain",)).get_content()
    assert "សូមមើលលិខិតលេខ" in body and notice.reference in body


def test_many_letters_go_over_one_connection(app, smtp, letters):
    smtp.start()
    made = letters(5)
    summary = run_outbox(app, NOW)
    assert summary.counts["sent"] == 5 and summary.counts["connections"] == 1
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(n.recipient_email for n in made)
    assert len(set(smtp.handler.message_ids())) == 5
    assert {row.status for row in messages()} == {SENT}
    # nothing left: a second run sends nothing
    assert run_outbox(app, NOW + MINUTE).counts["sent"] == 0
    assert len(smtp.received) == 5


def test_without_smtp_host_nothing_is_sent_and_nothing_is_lost(app, smtp, letters):
    letters(2)
    app.config["SMTP_HOST"] = ""
    summary = run_outbox(app, NOW)
    assert summary.counts["waiting_for_SMTP_HOST"] == 2
    assert {(row.status, row.attempts) for row in messages()} == {(QUEUED, 0)}


# ------------------------------------------------------------- server trouble


def test_server_down_then_up_delivers_once(app, smtp, letters, caplog):
    (notice,) = letters(1)
    with caplog.at_level(logging.INFO, logger="casemgr.jobs"):
        summary = run_outbox(app, NOW)
    assert summary.counts["deferred"] == 1 and summary.counts["sent"] == 0
    [row] = messages()
    assert row.status == QUEUED and row.attempts == 1
    assert "cannot connect to 127.0.0.1" in row.last_error
    assert row.next_attempt_at == NOW + timedelta(minutes=5)  # the first back-off
    first_id = row.message_id
    assert first_id is not None

    smtp.start()
    # not due yet: the back-off is kept
    assert run_outbox(app, NOW + MINUTE).counts["sent"] == 0
    assert smtp.received == []

    summary = run_outbox(app, NOW + timedelta(minutes=6))
    assert summary.counts["sent"] == 1
    [received] = smtp.received
    [row] = messages()
    assert row.status == SENT and row.attempts == 2 and row.last_error is None
    assert received.message_id == first_id == row.message_id
    run_outbox(app, NOW + timedelta(hours=1))
    assert len(smtp.received) == 1


def test_server_down_stops_the_run_without_touching_the_other_messages(app, smtp, letters):
    letters(3)
    summary = run_outbox(app, NOW)
    assert summary.counts["deferred"] == 1
    assert sorted(row.attempts for row in messages()) == [0, 0, 1]


def test_back_off_doubles_then_the_message_fails_and_supervisors_see_it(app, smtp, letters):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 4
    (notice,) = letters(1)
    moment = NOW
    waits = []
    for _ in range(4):
        run_outbox(app, moment)
        [row] = messages()
        if row.status == QUEUED:
            waits.append(row.next_attempt_at - moment)
            moment = row.next_attempt_at
    assert waits == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert row.status == FAILED and row.attempts == 4
    assert "gave up after 4 attempts" in row.last_error
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "delivery_failed")).all()
    assert notice.reference in alert.message and alert.notice_id == notice.id
    # failed for good: later runs leave it alone
    smtp.start()
    run_outbox(app, moment + timedelta(days=1))
    assert smtp.received == []


def test_a_refused_recipient_fails_at_once_without_retries(app, smtp, recorder, letters):
    recorder.refuse["abuse0@provider0.example"] = (
        "550 5.1.1 <abuse0@provider0.example>: no such user"
    )
    smtp.start()
    letters(2)
    summary = run_outbox(app, NOW)
    assert summary.counts["failed"] == 1 and summary.counts["sent"] == 1
    refused, delivered = messages()
    assert refused.status == FAILED and refused.attempts == 1
    assert "RCPT TO: 550 5.1.1" in refused.last_error
    assert delivered.status == SENT  # the connection went on after the refusal (RSET)
    assert summary.counts["connections"] == 1
    assert db.session.scalar(select(Alert).where(Alert.kind == "delivery_failed")) is not None
    run_outbox(app, NOW + timedelta(days=1))
    assert len(smtp.received) == 1


def test_a_temporary_refusal_is_retried(app, smtp, recorder, letters):
    recorder.refuse["abuse0@provider0.example"] = "451 4.3.0 greylisted, try later"
    smtp.start()
    letters(1)
    run_outbox(app, NOW)
    [row] = messages()
    assert row.status == QUEUED and "451 4.3.0" in row.last_error
    del recorder.refuse["abuse0@provider0.example"]
    run_outbox(app, NOW + timedelta(minutes=5))
    [row] = messages()
    assert row.status == SENT and row.attempts == 2
    assert len(smtp.received) == 1


def test_connection_dropped_after_data_is_held_never_sent_twice(app, smtp, recorder, letters):
    """The server accepted the message and dropped the connection before answering.

    The outbox cannot know the message arrived; it may have: so it is not sent
    again automatically (the server holds exactly one), supervisors are told."""
    recorder.drop_after_data = 1
    smtp.start()
    (notice,) = letters(1)
    summary = run_outbox(app, NOW)
    assert summary.counts["unknown"] == 1
    assert len(smtp.received) == 1
    [row] = messages()
    assert row.status == UNKNOWN and row.handed_over_at == NOW
    assert "no answer came" in row.last_error
    alert = db.session.scalar(select(Alert).where(Alert.kind == "delivery_unknown"))
    assert alert is not None and notice.reference in alert.message
    db.session.refresh(notice)
    assert notice.sent_at is None

    for hours in (1, 24, 24 * 7):
        run_outbox(app, NOW + timedelta(hours=hours))
    assert len(smtp.received) == 1
    assert smtp.handler.message_ids() == [row.message_id]


def test_with_the_resend_policy_an_unknown_message_goes_again_with_its_message_id(
    app, smtp, recorder, letters
):
    app.config["OUTBOX_UNKNOWN_OUTCOME"] = "resend"
    recorder.drop_after_data = 1
    smtp.start()
    letters(1)
    run_outbox(app, NOW)
    [row] = messages()
    assert row.status == QUEUED
    run_outbox(app, NOW + timedelta(minutes=5))
    assert [r.message_id for r in smtp.received] == [row.message_id, row.message_id]
    assert messages()[0].status == SENT


def test_connection_dropped_after_the_answer_sends_each_once(app, smtp, recorder, letters):
    recorder.drop_after_reply = 1
    smtp.start()
    letters(3)
    summary = run_outbox(app, NOW)
    assert summary.counts["sent"] == 3
    assert summary.counts["connections"] == 2  # the dropped one was replaced
    assert len(smtp.received) == 3 and len(set(smtp.handler.message_ids())) == 3


def test_a_slow_answer_to_the_message_is_an_unknown_outcome(app, smtp, recorder, letters):
    app.config["SMTP_DATA_TIMEOUT"] = 0.3
    recorder.data_delay = 1.0
    smtp.start()
    letters(1)
    summary = run_outbox(app, NOW)
    assert summary.counts["unknown"] == 1
    [row] = messages()
    assert row.status == UNKNOWN and "timed out" in row.last_error


def test_a_server_that_never_greets_times_out_and_is_retried(app, smtp_port, letters):
    app.config["SMTP_TIMEOUT"] = 0.3
    silent = socket_listener(smtp_port)
    try:
        letters(1)
        summary = run_outbox(app, NOW)
    finally:
        silent.close()
    assert summary.counts["deferred"] == 1
    [row] = messages()
    assert row.status == QUEUED and "timed out" in row.last_error


def socket_listener(port: int):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen(5)
    return listener


def test_a_letter_delivered_by_hand_meanwhile_is_not_e_mailed(app, smtp, letters, supervisor):
    from casemgr.notices.letters import mark_delivered

    smtp.start()
    (notice,) = letters(1)
    mark_delivered(db.session, notice, actor=supervisor.actor, now=NOW)
    db.session.commit()
    summary = run_outbox(app, NOW + MINUTE)
    assert summary.counts["cancelled"] == 1
    assert smtp.received == []
    assert messages()[0].status == CANCELLED


def test_a_server_closing_with_421_stops_the_run(app, smtp, recorder, letters):
    recorder.refuse["abuse0@provider0.example"] = "421 4.7.0 too busy, closing"
    smtp.start()
    letters(3)
    summary = run_outbox(app, NOW)
    assert summary.counts["deferred"] == 1 and summary.counts["sent"] == 0
    assert sorted(row.attempts for row in messages()) == [0, 0, 1]
    assert smtp.received == []


def test_a_process_killed_after_an_answer_holds_that_one_message(app, smtp, letters, monkeypatch):
    """The answer to a message is committed with the next message's hand-over: a
    process killed in between leaves that message held (never resent)."""
    smtp.start()
    letters(3)
    real_prepare = outbox_job.prepare
    calls = []

    def dying_prepare(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process is killed while composing the second
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(outbox_job, "prepare", dying_prepare)
    with pytest.raises(KeyboardInterrupt):
        run_outbox(app, NOW)
    db.session.rollback()
    monkeypatch.setattr(outbox_job, "prepare", real_prepare)
    assert len(smtp.received) == 1

    summary = run_outbox(app, NOW + timedelta(minutes=2))  # the lease (60 s) has expired
    assert summary.counts["unknown"] == 1 and summary.counts["requeued"] == 2
    assert summary.counts["sent"] == 2
    first, *rest = messages()
    assert first.status == UNKNOWN and {row.status for row in rest} == {SENT}
    assert len(smtp.received) == 3 and len(set(smtp.handler.message_ids())) == 3

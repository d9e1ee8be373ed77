"""Ingesting the corpus: matched, threaded into every case of the letter, notified
once, stored once; bounces fail the outbox message; auto-replies notify nobody;
attachments are described and never stored."""

from __future__ import annotations

import base64
import os

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from casemgr.alerts.models import Alert
from casemgr.cases.models import CaseEvent
from casemgr.extensions import db
from casemgr.inbound.models import InboundMail, InboundMailCase
from casemgr.inbound.parsing import Unreadable, parse
from casemgr.notifications.models import Notification
from casemgr.outbox.models import FAILED
from tests.conftest import NOW
from tests.inbound.conftest import corpus, secrets_in, store

REPLIES = {
    "outlook_reply": "The content has been removed",
    "gmail_reply": "we are looking into it",
    "thunderbird_reply": "Grüße aus München",
    "html_only": "The files were removed & the account closed.",
    "attachment_reply": "the content is gone",
}


def events(case_id: int | None = None) -> list[CaseEvent]:
    statement = select(CaseEvent).where(CaseEvent.action == "provider_reply")
    if case_id is not None:
        statement = statement.where(CaseEvent.case_id == case_id)
    return list(db.session.scalars(statement.order_by(CaseEvent.id)).all())


def notifications() -> list[Notification]:
    return list(
        db.session.scalars(select(Notification).where(Notification.kind == "provider_reply")).all()
    )


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_a_reply_is_threaded_into_every_case_of_its_letter(app, letter, analyst, name):
    result = store(app, corpus(name, letter))

    assert not result.duplicate and result.kind == "reply" and result.state == "matched"
    assert result.case_ids == letter.case_ids
    mail = db.session.get(InboundMail, result.mail_id)
    assert mail.matched_by == "header"
    assert REPLIES[name] in mail.text
    links = db.session.scalars(select(InboundMailCase).order_by(InboundMailCase.case_id)).all()
    assert [(link.case_id, link.notice_id) for link in links] == [
        (case_id, letter.notice.id) for case_id in letter.case_ids
    ]
    for case_id in letter.case_ids:
        (event,) = events(case_id)
        assert event.fields["mail_id"] == mail.id
        assert event.fields["subject"] == mail.subject
        assert event.fields["attachments_dropped"] == len(mail.attachments)
    # One notification for the assignee of both cases.
    (notification,) = notifications()
    assert notification.user_id == analyst.id
    assert mail.subject in notification.message


def test_the_same_message_twice_is_stored_and_acted_on_once(app, letter):
    raw = corpus("outlook_reply", letter)
    first = store(app, raw)
    again = store(app, raw)

    assert again.duplicate and again.mail_id == first.mail_id
    assert "duplicate" in again.line()
    assert db.session.scalar(select(func.count(InboundMail.id))) == 1
    assert len(events()) == 2 and len(notifications()) == 1


def test_an_out_of_office_is_recorded_and_notifies_nobody(app, letter):
    result = store(app, corpus("out_of_office", letter))

    assert result.kind == "auto_reply" and result.state == "matched"
    assert len(events()) == 2 and all(e.fields["auto_reply"] for e in events())
    assert notifications() == []


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-generated\n",
        "X-Autoreply: yes\n",
        "Precedence: bulk\n",
        "Subject: Out of Office: away\n",
    ],
)
def test_auto_replies_are_recognised(headers):
    raw = f"From: a@b.example\nMessage-ID: <x@b.example>\n{headers}\nAway.\n".encode()
    assert parse(raw).kind == "auto_reply"


def test_auto_submitted_no_is_a_person(app):
    raw = b"From: a@b.example\nAuto-Submitted: no\nSubject: Re: hi\n\nRemoved.\n"
    assert parse(raw).kind == "reply"


def test_a_bounce_fails_the_letter_with_an_alert(app, letter):
    result = store(app, corpus("dsn_bounce", letter))

    assert result.kind == "bounce" and result.state == "matched"
    assert result.failed_outbox_id == letter.outbox.id
    db.session.expire_all()
    assert letter.outbox.status == FAILED
    assert "5.1.1" in letter.outbox.last_error
    (alert,) = db.session.scalars(select(Alert).where(Alert.kind == "delivery_failed")).all()
    assert alert.notice_id == letter.notice.id and letter.notice.reference in alert.message
    mail = db.session.get(InboundMail, result.mail_id)
    assert mail.bounced_outbox_id == letter.outbox.id
    # The bounce is not a provider's reply: no reply event, no reply notification.
    assert events() == [] and notifications() == []


def test_a_delay_report_does_not_fail_the_letter(app, letter):
    raw = corpus("dsn_bounce", letter).replace(b"Action: failed", b"Action: delayed")
    result = store(app, raw)

    assert result.kind == "bounce" and result.failed_outbox_id is None
    db.session.expire_all()
    assert letter.outbox.status == "sent"


def test_a_bounce_of_a_message_we_never_sent_waits_for_a_supervisor(app, letter):
    raw = corpus("dsn_bounce", letter, MESSAGE_ID="<someone.else@elsewhere.example>")
    result = store(app, raw)

    assert result.kind == "bounce" and result.state == "unmatched"
    db.session.expire_all()
    assert letter.outbox.status == "sent"


def test_a_khmer_encoded_word_subject_is_decoded_and_matched_by_case_reference(app, letter):
    result = store(app, corpus("khmer_subject", letter))

    mail = db.session.get(InboundMail, result.mail_id)
    assert mail.subject == f"ចម្លើយ៖ បានលុបមាតិកាហើយ {letter.cases[0].reference}"
    assert mail.from_name == "សុខា"
    assert "យើងបានលុបមាតិកានេះហើយ" in mail.text
    assert mail.matched_by == "case_reference" and result.case_ids == [letter.cases[0].id]


def test_a_message_without_message_id_gets_a_stable_one(app, letter):
    raw = corpus("no_message_id", letter)
    first = store(app, raw)
    again = store(app, raw)

    mail = db.session.get(InboundMail, first.mail_id)
    assert mail.message_id.startswith("<sha256-") and again.duplicate
    assert mail.matched_by == "notice_reference" and first.case_ids == letter.case_ids


def test_malformed_mime_is_stored_without_control_characters(app, letter):
    result = store(app, corpus("malformed", letter))

    mail = db.session.get(InboundMail, result.mail_id)
    assert "not base64 at all" in mail.text
    assert "\x00" not in mail.text and "\x01" not in mail.text
    assert mail.sent_at is None and mail.from_address == ""
    assert [a["type"] for a in mail.attachments] == ["application/pdf"]
    assert mail.attachments[0]["name"] == ".pdf"  # the direction override taken out
    assert result.case_ids == letter.case_ids  # by the letter's reference in the subject


def test_a_forwarded_message_keeps_its_text_and_drops_its_attachments(app, letter):
    raw = corpus("nested_rfc822", letter)
    result = store(app, raw)

    mail = db.session.get(InboundMail, result.mail_id)
    assert "I deleted the folder." in mail.text and "---- Forwarded message ----" in mail.text
    assert [(a["name"], a["type"], a["size"]) for a in mail.attachments] == [
        ("screenshot.jpg", "image/jpeg", 2500)
    ]


def test_a_reference_to_a_case_that_does_not_exist_leaves_it_unmatched(app, letter):
    result = store(app, corpus("unmatched", letter))

    assert result.state == "unmatched" and result.case_ids == []
    assert events() == [] and notifications() == []


def test_empty_input_is_unreadable(app):
    with pytest.raises(Unreadable):
        parse(b"  \n")
    with pytest.raises(Unreadable):
        parse(b"\n\nno header at all")


def test_text_is_capped(app, letter):
    app.config["INBOUND_TEXT_LIMIT"] = 1000
    raw = (
        b"From: a@provider0.example\nMessage-ID: <long@provider0.example>\n"
        b"Subject: about " + letter.notice.reference.encode() + b"\n\n" + b"x" * 5000
    )
    mail = db.session.get(InboundMail, store(app, raw).mail_id)
    assert len(mail.text) == 1000 and mail.text_truncated


# ------------------------------------------------------------ never the bytes


def database_dump() -> bytes:
    """Every text and binary column of every table, as bytes."""
    chunks = []
    for table in db.metadata.sorted_tables:
        columns = [
            c
            for c in table.columns
            if isinstance(c.type, sa.String | sa.Text | sa.LargeBinary | sa.JSON)
        ]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)).all():
            for value in row:
                if isinstance(value, bytes):
                    chunks.append(value)
                elif value is not None:
                    chunks.append(str(value).encode("utf-8", "surrogateescape"))
    return b"\n".join(chunks)


def forms_of(secret: bytes) -> list[bytes]:
    """The secret as it could be stored: raw, in base64, in hex (a run of 32 bytes)."""
    piece = secret[100:132]
    return [piece, base64.b64encode(secret)[:60], piece.hex().encode(), secret[:32].hex().encode()]


def test_attachment_bytes_never_reach_the_database(app, letter):
    big = os.urandom(20 * 1024 * 1024)
    big_raw = (
        b"From: a@provider0.example\nMessage-ID: <big@provider0.example>\n"
        b"Subject: Re: " + letter.notice.reference.encode() + b"\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        b"Twenty megabytes attached.\n--b\nContent-Type: application/x-dosexec\n"
        b'Content-Disposition: attachment; filename="big.exe"\n'
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(big) + b"--b--\n"
    )
    secrets = [big]
    for name in ("attachment_reply", "nested_rfc822"):
        raw = corpus(name, letter)
        secrets.extend(secrets_in(raw))
        store(app, raw)
    result = store(app, big_raw)
    assert len(secrets) == 4  # capture.bin, removal-tool.exe, screenshot.jpg, big.exe

    mail = db.session.get(InboundMail, result.mail_id)
    assert mail.attachments[0]["size"] == len(big) and mail.attachments[0]["name"] == "big.exe"
    dump = database_dump()
    assert b"Twenty megabytes attached." in dump  # the dump does hold the stored text
    for secret in secrets:
        for form in forms_of(secret):
            assert form not in dump


def test_a_multipart_without_boundary_is_read_as_text():
    parsed = parse(b"Subject: x\nContent-Type: multipart/mixed\n\nno boundary here\n")
    assert parsed.text == "no boundary here" and parsed.attachments == []


def test_random_bytes_are_no_message():
    with pytest.raises(Unreadable):
        parse(os.urandom(5000).replace(b":", b"") + b"\n")


def test_bad_bytes_and_control_characters_in_a_body_are_cleaned():
    raw = b'Subject: =?utf-8?q?caf=C3=A9?=\nContent-Type: text/plain; charset="utf-8"\n\n'
    parsed = parse(raw + b"\xe9t\xe9 \x00\x07bell\tand tab\r\n")
    assert parsed.subject == "café"
    assert parsed.text == "\ufffdt\ufffd bell\tand tab"


# ------------------------------------------------------------ reporters


@pytest.fixture
def feedback(app, letter):
    """A reporter's feedback e-mail, sent."""
    from casemgr.outbox.models import SENT, OutboxMessage

    case = letter.cases[0]
    row = OutboxMessage(
        kind="feedback",
        submission_id=case.submission_id,
        recipient=None,
        status=SENT,
        message_id="<feedback.1@hotline.example.org>",
        next_attempt_at=NOW,
        created_at=NOW,
        sent_at=NOW,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_a_reporters_reply_does_not_keep_their_address(app, feedback):
    raw = (
        b"From: Reporter Name <reporter@private.example>\nMessage-ID: <r1@private.example>\n"
        b"In-Reply-To: <feedback.1@hotline.example.org>\nSubject: Re: your report\n\nThanks!\n"
    )
    mail = db.session.get(InboundMail, store(app, raw).mail_id)
    assert (mail.from_address, mail.from_name, mail.state) == ("", "a reporter", "unmatched")
    assert "Thanks!" not in mail.text and "not kept" in mail.text
    assert b"reporter@private.example" not in database_dump()
    assert b"Reporter Name" not in database_dump()


def test_a_bounce_of_a_feedback_email_fails_it_without_the_address(app, letter, feedback):
    raw = corpus("dsn_bounce", letter, MESSAGE_ID=feedback.message_id).replace(
        b"abuse0@provider0.example", b"reporter@private.example"
    )
    result = store(app, raw)

    assert result.failed_outbox_id == feedback.id
    db.session.expire_all()
    assert feedback.status == FAILED
    assert b"reporter@private.example" not in database_dump()

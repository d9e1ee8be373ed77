"""``replies_for_cases``: the data the case API shows as ``provider_replies``."""

from __future__ import annotations

import jsonschema

from casemgr.extensions import db
from casemgr.inbound.api import API_TEXT_LIMIT, REPLY_SCHEMA, replies_for_cases
from tests.inbound.conftest import corpus, store


def test_replies_per_case_match_the_schema(app, letter, make):
    first = store(app, corpus("attachment_reply", letter)).mail_id
    second = store(app, corpus("khmer_subject", letter)).mail_id
    other = make.case("new")

    replies = replies_for_cases(db.session, [*letter.case_ids, other.id, other.id])

    assert set(replies) == {*letter.case_ids, other.id}
    assert [r["id"] for r in replies[letter.cases[0].id]] == [first, second]
    assert [r["id"] for r in replies[letter.cases[1].id]] == [first]
    assert replies[other.id] == []
    reply = replies[letter.cases[0].id][0]
    assert reply["kind"] == "reply" and "the content is gone" in reply["text"]
    assert [a["name"] for a in reply["attachments_dropped"]] == ["capture.bin", "removal-tool.exe"]
    assert reply["from"] == "Abuse Team <abuse0@provider0.example>"
    validator = jsonschema.Draft202012Validator(
        {"type": "array", "items": REPLY_SCHEMA}, format_checker=jsonschema.FormatChecker()
    )
    for case_replies in replies.values():
        validator.validate(case_replies)


def test_the_text_is_capped_in_the_api(app, letter):
    raw = (
        b"From: a@provider0.example\nMessage-ID: <long@provider0.example>\n"
        b"In-Reply-To: "
        + letter.outbox.message_id.encode()
        + b"\n\n"
        + b"y" * (API_TEXT_LIMIT + 10)
    )
    store(app, raw)
    (reply,) = replies_for_cases(db.session, [letter.cases[0].id])[letter.cases[0].id]
    assert len(reply["text"]) == API_TEXT_LIMIT and reply["text_truncated"]


def test_no_cases_no_query(app):
    assert replies_for_cases(db.session, []) == {}

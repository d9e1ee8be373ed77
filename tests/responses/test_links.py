"""Every notice and reminder to a provider carries a link of its own; only a
hash of its token is stored; a later letter supersedes it."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import inspect, select

from casemgr import context
from casemgr.extensions import db
from casemgr.notices.models import Notice
from casemgr.responses import links
from casemgr.responses.models import ResponseLink
from casemgr.responses.services import open_letter
from tests import factories
from tests.jobs.conftest import flat, pdf_text, run_notices, run_reminders


def test_a_notice_carries_its_link_in_the_pdf_and_stores_only_its_hash(app, send_letter):
    sent = send_letter(2)
    row = db.session.get(ResponseLink, sent.notice.id)
    assert row.token_hash == hashlib.sha256(sent.token.encode()).hexdigest()
    assert row.expires_at == sent.notice.created_at + timedelta(days=90)
    assert sent.token not in row.nonce
    text = flat(pdf_text(db.session.get(Notice, sent.notice.id).pdf))
    assert flat(f"http://casemgr.test/respond/{sent.token}") in text
    assert links.url_for_letter(db.session, sent.notice.id, context.response_links()) == (
        f"http://casemgr.test/respond/{sent.token}"
    )


def test_the_token_is_nowhere_in_the_database(app, send_letter):
    sent = send_letter(1)
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                assert sent.token not in repr(tuple(row)), table.name


def test_a_link_opens_its_letter_only_while_it_works(app, send_letter, clock):
    sent = send_letter(1)
    assert open_letter(db.session, sent.token, now=context.now()) is not None
    for wrong in ("", sent.token[:-1], sent.token + "A", sent.token[:-1] + "B", "x" * 43):
        assert open_letter(db.session, wrong, now=context.now()) is None
    expires = db.session.get(ResponseLink, sent.notice.id).expires_at
    assert open_letter(db.session, sent.token, now=expires) is None


def test_a_reminder_carries_a_new_link_and_the_notice_link_stops(app, send_letter):
    sent = send_letter(2)
    due = max(case.next_reminder_at for case in sent.cases)
    summary = run_reminders(app, due + timedelta(minutes=1))
    (reference,) = summary.letters["reminder"]
    reminder = db.session.scalar(select(Notice).where(Notice.reference == reference))
    old = db.session.get(ResponseLink, sent.notice.id)
    new = db.session.get(ResponseLink, reminder.id)
    assert new is not None and old.superseded_by_id == reminder.id
    assert open_letter(db.session, sent.token, now=due) is None
    assert open_letter(db.session, context.response_links().token(new.nonce), now=due)


def test_referrals_and_letters_without_a_public_address_carry_no_link(app, analyst):
    partner = factories.organisation("hotline", country="KH", email="desk@partner.example")
    case = factories.case("action_required", by=analyst)
    from casemgr.cases import services as cases

    cases.apply_action(
        db.session,
        case,
        "forward_to_partner",
        {"partner_id": partner.id},
        actor=analyst.actor,
        now=context.now() - timedelta(hours=2),
        timings=context.timings(),
    )
    db.session.commit()
    summary = run_notices(app, context.now() - timedelta(hours=1))
    assert summary.letters.get("referral")
    assert db.session.scalar(select(ResponseLink)) is None


def test_no_public_address_no_link(app, queue, provider):
    app.extensions["casemgr.response_links"] = links.LinkSettings.from_config(
        {**app.config, "PUBLIC_BASE_URL": ""}
    )
    queue(provider, at=context.now() - timedelta(hours=2))
    summary = run_notices(app, context.now() - timedelta(hours=1))
    (reference,) = summary.letters["notice"]
    notice = db.session.scalar(select(Notice).where(Notice.reference == reference))
    assert db.session.scalar(select(ResponseLink)) is None
    assert "respond" not in pdf_text(notice.pdf)
    assert "without an account" not in pdf_text(notice.pdf)


def test_the_stored_columns_are_what_the_model_says():
    columns = {c.key for c in inspect(ResponseLink).columns}
    assert "token" not in columns and {"token_hash", "nonce"} <= columns

"""Claims on a real SMTP server's messages: a claim abandoned before or after the
hand-over, a late answer, a lost claim (the job process died or hung)."""

from __future__ import annotations

from datetime import timedelta

from casemgr.extensions import db
from casemgr.outbox import claims, delivery
from casemgr.outbox.mailer import Attempt
from casemgr.outbox.models import SENDING, SENT, UNKNOWN
from casemgr.outbox.settings import OutboxSettings
from tests.conftest import NOW
from tests.outbox.conftest import messages, run_outbox

MINUTE = timedelta(minutes=1)


def test_a_claim_abandoned_before_hand_over_is_sent_once_when_its_lease_expires(app, smtp, letters):
    smtp.start()
    letters(1)
    settings = OutboxSettings.from_app(app)
    claimed = claims.claim_next(
        db.session, now=NOW, lease=settings.lease, token="dead", message_id_domain="x.example"
    )
    db.session.commit()  # ... and the process dies here
    assert run_outbox(app, NOW + MINUTE).counts["sent"] == 0  # the lease still holds
    [row] = messages()
    assert row.status == SENDING and row.id == claimed

    summary = run_outbox(app, NOW + timedelta(minutes=2))
    assert summary.counts["requeued"] == 1 and summary.counts["sent"] == 1
    [received] = smtp.received
    [row] = messages()
    assert row.status == SENT and received.message_id == row.message_id
    assert row.message_id.endswith("@x.example>")  # fixed by the first claim


def test_a_claim_abandoned_after_hand_over_is_held(app, smtp, letters):
    smtp.start()
    letters(1)
    settings = OutboxSettings.from_app(app)
    claimed = claims.claim_next(
        db.session, now=NOW, lease=settings.lease, token="dead", message_id_domain="x.example"
    )
    assert claims.mark_handed_over(db.session, claimed, "dead", now=NOW)
    db.session.commit()  # ... the message may have gone; the process dies
    summary = run_outbox(app, NOW + timedelta(minutes=2))
    assert summary.counts["unknown"] == 1 and summary.counts["sent"] == 0
    assert messages()[0].status == UNKNOWN
    assert smtp.received == []


def test_a_late_answer_after_the_lease_expired_is_still_recorded(app, smtp, letters):
    """A process that hung past its lease, then got the server's answer."""
    smtp.start()
    letters(1)
    settings = OutboxSettings.from_app(app)
    claimed = claims.claim_next(
        db.session, now=NOW, lease=settings.lease, token="slow", message_id_domain="x.example"
    )
    claims.mark_handed_over(db.session, claimed, "slow", now=NOW)
    db.session.commit()
    run_outbox(app, NOW + timedelta(minutes=2))  # another run finds the lease expired
    assert messages()[0].status == UNKNOWN
    status = delivery.record_attempt(
        db.session,
        claimed,
        "slow",
        Attempt("sent", "250 ok", 250),
        now=NOW + timedelta(minutes=3),
        settings=settings,
    )
    db.session.commit()
    assert status == SENT and messages()[0].status == SENT


def test_a_lost_claim_is_not_sent(app, smtp, letters):
    """A process whose claim was taken back never hands the message over."""
    smtp.start()
    letters(1)
    settings = OutboxSettings.from_app(app)
    claimed = claims.claim_next(
        db.session, now=NOW, lease=settings.lease, token="old", message_id_domain="x.example"
    )
    db.session.commit()
    delivery.recover_expired(db.session, now=NOW + timedelta(hours=1), settings=settings)
    db.session.commit()
    assert not claims.mark_handed_over(db.session, claimed, "old", now=NOW)

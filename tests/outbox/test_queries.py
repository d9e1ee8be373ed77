"""The counts and lists behind the outbox page and the supervisors' menu."""

from __future__ import annotations

from datetime import timedelta

from casemgr.extensions import db
from casemgr.outbox import queries, staff_actions
from casemgr.outbox.models import CANCELLED, FAILED, QUEUED, SENDING, SENT, UNKNOWN
from tests.conftest import NOW
from tests.outbox.conftest import messages, run_outbox


def test_counts_and_lists_by_status(app, smtp, recorder, letters):
    recorder.refuse["abuse1@provider1.example"] = "550 5.1.1 no such user"
    smtp.start()
    letters(3)
    assert queries.due_count(db.session, NOW) == 3
    run_outbox(app, NOW)
    assert queries.status_counts(db.session) == {
        QUEUED: 0,
        SENDING: 0,
        SENT: 2,
        FAILED: 1,
        UNKNOWN: 0,
        CANCELLED: 0,
    }
    assert queries.attention_count(db.session) == 1
    assert queries.due_count(db.session, NOW) == 0
    first, failed, third = messages()
    assert failed.status == FAILED
    # sent ones newest first (both sent at NOW: the later id first)
    assert queries.list_messages(db.session, (SENT,)) == [third, first]
    assert queries.list_messages(db.session, (FAILED, UNKNOWN)) == [failed]
    assert queries.list_messages(db.session, (SENT,), limit=1) == [third]


def test_a_cancelled_letter_waits_for_delivery_by_hand(app, smtp, recorder, letters, supervisor):
    recorder.refuse["abuse0@provider0.example"] = "550 5.1.1 no such user"
    smtp.start()
    [notice] = letters(1)
    run_outbox(app, NOW)
    assert queries.manual_delivery_count(db.session) == 0
    [row] = messages()
    staff_actions.cancel(db.session, row.id, actor=supervisor.actor, now=NOW + timedelta(hours=1))
    db.session.commit()
    assert queries.manual_delivery_count(db.session) == 1
    assert queries.awaiting_manual_delivery(db.session) == [notice]
    assert queries.attention_count(db.session) == 0

"""A supervisor's retry, confirmation and cancellation, called as services: who may
be acted on, who is recorded as acting, and what a reporter's feedback keeps.

The same decisions through the outbox page are in ``test_views.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr.alerts.models import Alert
from casemgr.audit.models import AuditEntry
from casemgr.errors import Conflict, NotFound
from casemgr.extensions import db
from casemgr.outbox import staff_actions
from casemgr.outbox.models import CANCELLED, FAILED, SENT
from tests.conftest import NOW
from tests.outbox.conftest import messages, run_outbox
from tests.outbox.test_queueing import REPORTER, close, report

MINUTE = timedelta(minutes=1)
ACTIONS = [staff_actions.retry, staff_actions.confirm_delivered, staff_actions.cancel]


def test_a_supervisors_retry_of_an_unknown_message_sends_the_same_message_id(
    app, smtp, recorder, letters, supervisor
):
    recorder.drop_after_data = 1
    smtp.start()
    letters(1)
    run_outbox(app, NOW)
    [row] = messages()
    staff_actions.retry(db.session, row.id, actor=supervisor.actor, now=NOW + MINUTE)
    db.session.commit()
    run_outbox(app, NOW + 2 * MINUTE)
    first, second = smtp.received
    assert first.message_id == second.message_id == row.message_id
    assert first.data == second.data  # the same message, Date header included
    [row] = messages()
    assert row.status == SENT and row.manual_retries == 1


@pytest.mark.parametrize("action", ACTIONS)
def test_a_message_that_was_sent_is_not_acted_on(app, smtp, letters, supervisor, action):
    smtp.start()
    letters(1)
    run_outbox(app, NOW)
    [row] = messages()
    with pytest.raises(Conflict, match="this one is sent"):
        action(db.session, row.id, actor=supervisor.actor, now=NOW + MINUTE)


def test_only_a_message_of_unknown_outcome_can_be_confirmed(
    app, smtp, recorder, letters, supervisor
):
    recorder.refuse["abuse0@provider0.example"] = "550 5.1.1 no such user"
    smtp.start()
    letters(1)
    run_outbox(app, NOW)
    [row] = messages()
    assert row.status == FAILED
    with pytest.raises(Conflict, match="only a message of unknown outcome can be confirmed"):
        staff_actions.confirm_delivered(db.session, row.id, actor=supervisor.actor, now=NOW)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("message_id", [99, 0, 2**31])
def test_an_unknown_message_is_not_found(app, supervisor, action, message_id):
    with pytest.raises(NotFound, match=f"no outbox message with id {message_id}"):
        action(db.session, message_id, actor=supervisor.actor, now=NOW)


@pytest.fixture
def refused_feedback(app, smtp, recorder, analyst):
    """A reporter's feedback the server refused for good (``failed``)."""
    recorder.refuse[REPORTER] = "550 5.1.1 no such user"
    smtp.start()
    close(report().cases[0], analyst)
    run_outbox(app, NOW)
    [row] = messages()
    assert row.status == FAILED and row.sealed_recipient is not None
    return row


def test_cancelling_a_reporters_feedback_erases_their_contact(refused_feedback, supervisor):
    staff_actions.cancel(db.session, refused_feedback.id, actor=supervisor.actor, now=NOW + MINUTE)
    db.session.commit()
    [row] = messages()
    assert row.status == CANCELLED
    assert row.sealed_recipient is None and row.recipient_purged_at == NOW + MINUTE
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.cancel"))
    assert entry.actor_id == supervisor.id and entry.details["previous_status"] == FAILED
    alert = db.session.scalar(select(Alert).where(Alert.kind == "delivery_failed"))
    assert alert.resolved_at == NOW + MINUTE and alert.resolved_by_id == supervisor.id


def test_a_feedback_whose_contact_was_erased_cannot_be_retried(refused_feedback, supervisor):
    refused_feedback.sealed_recipient = None
    db.session.commit()
    with pytest.raises(Conflict, match="the reporter's contact was erased"):
        staff_actions.retry(db.session, refused_feedback.id, actor=supervisor.actor, now=NOW)
    assert messages()[0].status == FAILED

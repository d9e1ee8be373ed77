"""The supervisors' outbox screens: access, decisions (audited), letters to deliver by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr.alerts.models import Alert
from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from casemgr.notices.models import Notice
from casemgr.notifications.models import Notification
from casemgr.outbox.models import CANCELLED, FAILED, QUEUED, SENT, UNKNOWN
from tests.conftest import NOW, login
from tests.jobs.conftest import run_notices
from tests.outbox.conftest import messages, run_outbox

MINUTE = timedelta(minutes=1)

GET_SUPERVISOR = ["/outbox/", "/outbox/manual"]
POST_SUPERVISOR = ["/outbox/1/retry", "/outbox/1/confirm", "/outbox/1/cancel"]


@pytest.fixture
def refused(app, make, queue, smtp, recorder):
    """A letter the server refused (failed) and one to a provider without e-mail (manual)."""
    recorder.refuse["abuse@refusing.example"] = "550 5.1.1 no such user"
    smtp.start()
    queue(make.organisation(name="Refusing Host", email="abuse@refusing.example"))
    queue(make.organisation(name="Paper Host", email=None))
    run_notices(app, NOW)
    run_outbox(app, NOW)
    [row] = messages()
    assert row.status == FAILED
    return row


@pytest.fixture
def unknown(app, make, queue, smtp, recorder):
    recorder.drop_after_data = 1
    smtp.start()
    queue(make.organisation(name="Dropping Host", email="abuse@dropping.example"))
    run_notices(app, NOW)
    run_outbox(app, NOW)
    [row] = messages()
    assert row.status == UNKNOWN
    return row


# ---------------------------------------------------------------------- access


@pytest.mark.parametrize("path", GET_SUPERVISOR)
def test_anonymous_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("path", POST_SUPERVISOR)
def test_anonymous_cannot_post(client, path):
    response = client.post(path)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("path", GET_SUPERVISOR)
def test_analysts_cannot_open_the_outbox(client, analyst, path):
    assert login(client, analyst).get(path).status_code == 403


@pytest.mark.parametrize("path", POST_SUPERVISOR)
def test_analysts_cannot_decide(client, refused, analyst, path):
    assert login(client, analyst).post(path).status_code == 403
    assert messages()[0].status == FAILED


def test_analysts_have_no_outbox_in_their_menu(client, analyst):
    page = login(client, analyst).get("/cases/").get_data(as_text=True)
    assert "/outbox/" not in page and "Notifications (0)" in page


@pytest.mark.parametrize("path", ["/outbox/99/retry", f"/outbox/{2**31}/retry"])
def test_an_unknown_message_is_404(client, supervisor, path):
    assert login(client, supervisor).post(path).status_code == 404


# ------------------------------------------------------------------- the page


def test_supervisors_see_a_failed_letter_with_its_error_and_retry(client, refused, supervisor):
    page = login(client, supervisor).get("/outbox/").get_data(as_text=True)
    notice = db.session.get(Notice, refused.notice_id)
    assert "Outbox (2)" in page  # one failed, one to deliver by hand
    assert notice.reference in page and "Refusing Host" in page
    assert "RCPT TO: 550 5.1.1 no such user" in page
    assert f'action="/outbox/{refused.id}/retry"' in page
    assert 'name="csrf_token"' in page
    assert f'action="/outbox/{refused.id}/confirm"' not in page  # only for unknown outcomes


def test_retry_is_audited_and_sends_the_same_message_id(app, client, refused, supervisor, recorder):
    message_id = refused.message_id
    del recorder.refuse["abuse@refusing.example"]
    login(client, supervisor)
    response = client.post(f"/outbox/{refused.id}/retry")
    assert response.status_code == 302 and response.location.endswith("/outbox/")
    [row] = messages()
    assert (row.status, row.attempts, row.manual_retries) == (QUEUED, 0, 1)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.retry"))
    assert entry.actor_id == supervisor.id and entry.target_id == str(row.id)
    assert entry.details["previous"]["status"] == FAILED
    assert entry.details["message_id"] == message_id
    alert = db.session.scalar(select(Alert).where(Alert.kind == "delivery_failed"))
    assert alert.resolved_by_id == supervisor.id

    run_outbox(app, NOW + MINUTE)
    [received] = recorder.received
    assert received.message_id == message_id
    assert messages()[0].status == SENT


def test_retrying_twice_is_refused_kindly(client, refused, supervisor):
    login(client, supervisor)
    client.post(f"/outbox/{refused.id}/retry")
    response = client.post(f"/outbox/{refused.id}/retry", follow_redirects=True)
    assert response.status_code == 200
    assert "only a failed or unknown message can be retried" in response.get_data(as_text=True)


def test_an_unknown_outcome_confirmed_by_the_recipient(client, unknown, supervisor):
    login(client, supervisor)
    page = client.get("/outbox/").get_data(as_text=True)
    assert "outcome unknown" in page and f'action="/outbox/{unknown.id}/confirm"' in page
    client.post(f"/outbox/{unknown.id}/confirm")
    [row] = messages()
    assert row.status == SENT and row.sent_at == NOW
    notice = db.session.get(Notice, unknown.notice_id)
    assert notice.sent_at == NOW and notice.sent_by_id == supervisor.id
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "outbox.confirm")
    ).details["message_id"] == (row.message_id)


def test_deliver_by_hand_instead_moves_the_letter_to_the_manual_list(client, refused, supervisor):
    login(client, supervisor)
    client.post(f"/outbox/{refused.id}/cancel")
    assert messages()[0].status == CANCELLED
    notice = db.session.get(Notice, refused.notice_id)
    assert notice.manual_delivery is True
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox.cancel"))
    page = client.get("/outbox/manual").get_data(as_text=True)
    assert notice.reference in page and "Paper Host" in page


def test_the_manual_list_and_mark_delivered(client, refused, supervisor):
    paper = db.session.scalar(select(Notice).where(Notice.recipient_name == "Paper Host"))
    login(client, supervisor)
    page = client.get("/outbox/manual").get_data(as_text=True)
    assert paper.reference in page
    assert f'action="/notices/{paper.id}/delivered"' in page
    response = client.post(f"/notices/{paper.id}/delivered", data={"next": "/outbox/manual"})
    assert response.status_code == 302 and response.location.endswith("/outbox/manual")
    db.session.refresh(paper)
    assert paper.sent_at == NOW and paper.sent_by_id == supervisor.id
    assert f'action="/notices/{paper.id}/delivered"' not in client.get("/outbox/manual").get_data(
        as_text=True
    )


def test_a_failed_letter_notifies_the_assignee_of_its_cases(refused, analyst):
    [notification] = db.session.scalars(select(Notification)).all()
    assert notification.user_id == analyst.id and notification.kind == "delivery_failed"
    assert notification.notice_id == refused.notice_id


def test_the_page_never_shows_a_reporters_address(app, client, supervisor, analyst, smtp, recorder):
    from casemgr import context
    from casemgr.cases import services as cases
    from tests import factories

    recorder.refuse["someone@reporter.example"] = "550 no"
    smtp.start()
    submission = factories.report(
        reporter_contact="someone@reporter.example", feedback_requested=True
    ).submission
    [case] = submission.cases
    for action, fields in (("assign", {}), ("assess", {"classification": "not_illegal"})):
        cases.apply_action(
            db.session,
            case,
            action,
            fields,
            actor=analyst.actor,
            now=NOW,
            timings=context.timings(),
        )
    db.session.commit()
    run_outbox(app, NOW)
    page = login(client, supervisor).get("/outbox/").get_data(as_text=True)
    assert f"feedback on report {submission.reference}" in page and "the reporter" in page
    assert "someone@reporter.example" not in page

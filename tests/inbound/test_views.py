"""The supervisors' unmatched mail (list, show, attach, discard) and a reply read
from its case; who may, and CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.cases.models import CaseEvent
from casemgr.extensions import db
from casemgr.inbound.models import InboundMail
from casemgr.notifications.models import Notification
from tests.conftest import login
from tests.inbound.conftest import corpus, store
from tests.outbox.test_csrf import csrf_login


@pytest.fixture
def waiting(app, letter):
    """An unmatched message (it names a case that does not exist)."""
    return db.session.get(InboundMail, store(app, corpus("unmatched", letter)).mail_id)


def audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all())


def test_the_list_and_the_message(client, supervisor, waiting):
    login(client, supervisor)
    page = client.get("/mail/unmatched").get_data(as_text=True)
    assert "Question about your service" in page and "someone@elsewhere.example" in page
    assert "Unmatched mail (1)" in page  # in the staff navigation
    shown = client.get(f"/mail/{waiting.id}").get_data(as_text=True)
    assert "who are you?" in shown and 'name="csrf_token"' in shown


def test_attach_by_reference_makes_a_provider_reply(client, supervisor, letter, waiting, analyst):
    login(client, supervisor)
    case = letter.cases[1]
    response = client.post(f"/mail/{waiting.id}/attach", data={"case": case.reference.lower()})
    assert response.status_code == 302

    db.session.expire_all()
    assert waiting.state == "attached" and waiting.decided_by_id == supervisor.id
    (event,) = db.session.scalars(
        select(CaseEvent).where(CaseEvent.action == "provider_reply")
    ).all()
    assert event.case_id == case.id and event.actor_id == supervisor.id
    (entry,) = audit("inbound_mail.attach")
    assert entry.target_id == str(waiting.id)
    notified = db.session.scalars(select(Notification.user_id)).all()
    assert notified == [analyst.id]
    # Dealt with: gone from the list, and not attached twice.
    assert "Question about your service" not in client.get("/mail/unmatched").get_data(True)
    again = client.post(f"/mail/{waiting.id}/attach", data={"case": str(case.id)})
    assert again.status_code == 302 and len(audit("inbound_mail.attach")) == 1


def test_attach_by_id(client, supervisor, letter, waiting):
    login(client, supervisor)
    client.post(f"/mail/{waiting.id}/attach", data={"case": str(letter.cases[0].id)})
    db.session.expire_all()
    assert waiting.state == "attached" and waiting.links[0].case_id == letter.cases[0].id


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "Give a case reference or id."),
        ("CM-2026-999999", "There is no case CM-2026-999999."),
        ("99999999999", "There is no case 99999999999."),
        ("x" * 41, "Field cannot be longer than 40 characters."),
    ],
)
def test_attach_to_no_case_is_refused_naming_the_field(client, supervisor, waiting, value, message):
    login(client, supervisor)
    response = client.post(f"/mail/{waiting.id}/attach", data={"case": value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert waiting.state == "unmatched" and audit("inbound_mail.attach") == []


def test_discard(client, supervisor, waiting):
    login(client, supervisor)
    assert client.post(f"/mail/{waiting.id}/discard").status_code == 302
    db.session.expire_all()
    assert waiting.state == "discarded"
    assert [e.target_id for e in audit("inbound_mail.discard")] == [str(waiting.id)]


def test_unknown_mail_is_404(client, supervisor):
    login(client, supervisor)
    assert client.get("/mail/12345").status_code == 404
    assert client.post("/mail/12345/discard").status_code == 404


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/mail/unmatched"),
        ("GET", "/mail/{id}"),
        ("POST", "/mail/{id}/attach"),
        ("POST", "/mail/{id}/discard"),
    ],
)
def test_an_analyst_may_not(client, analyst, waiting, method, path):
    login(client, analyst)
    response = client.open(path.format(id=waiting.id), method=method, data={"case": "1"})
    assert response.status_code == 403
    db.session.expire_all()
    assert waiting.state == "unmatched"


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/mail/unmatched"),
        ("GET", "/mail/{id}"),
        ("POST", "/mail/{id}/attach"),
        ("POST", "/mail/{id}/discard"),
        ("GET", "/cases/1/replies/{id}"),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, waiting, method, path):
    response = client.open(path.format(id=waiting.id), method=method)
    assert response.status_code == 302 and response.location.startswith("/login?next=")


def test_a_reply_is_read_from_its_case(app, client, analyst, letter):
    mail_id = store(app, corpus("attachment_reply", letter)).mail_id
    login(client, analyst)
    case_page = client.get(f"/cases/{letter.cases[0].id}").get_data(as_text=True)
    assert "Reply from the provider" in case_page
    assert f"/cases/{letter.cases[0].id}/replies/{mail_id}" in case_page

    page = client.get(f"/cases/{letter.cases[0].id}/replies/{mail_id}").get_data(as_text=True)
    assert "the content is gone" in page
    assert "capture.bin" in page and "removal-tool.exe" in page and "never stored" in page


def test_a_reply_is_not_shown_under_another_case(app, client, analyst, letter, make):
    mail_id = store(app, corpus("attachment_reply", letter)).mail_id
    other = make.case("new")
    login(client, analyst)
    assert client.get(f"/cases/{other.id}/replies/{mail_id}").status_code == 404
    assert client.get(f"/cases/{letter.cases[0].id}/replies/999").status_code == 404


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @pytest.mark.parametrize("action", ["attach", "discard"])
    def test_a_post_without_its_token_is_refused(self, client, supervisor, waiting, action):
        csrf_login(client, supervisor)
        response = client.post(f"/mail/{waiting.id}/{action}", data={"case": "1"})
        assert response.status_code == 400
        db.session.expire_all()
        assert waiting.state == "unmatched"

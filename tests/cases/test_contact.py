"""Reporters' contact details: encrypted at rest, shown to staff only on an
explicit, audited action, and gone once the retention job purged them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from casemgr.jobs import retention
from tests.conftest import NOW, login

CONTACT = "reporter-77@example.net"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def reported(make):
    return make.report(
        "http://contact.example.com/x", reporter_contact=CONTACT, feedback_requested=True
    ).submission.cases[0]


def views() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contact.view")))


def test_the_contact_is_encrypted_at_rest(app, reported):
    raw = db.session.execute(
        select(db.metadata.tables["submissions"].c.reporter_contact)
    ).scalar_one()
    assert CONTACT.encode() not in bytes(raw)
    assert b"reporter-77" not in bytes(raw)


def test_the_case_page_offers_the_contact_without_showing_it(client, analyst, reported):
    page = login(client, analyst).get(f"/cases/{reported.id}").get_data(as_text=True)
    assert "Show contact" in page
    assert CONTACT not in page
    assert views() == []


def test_showing_the_contact_is_audited(client, analyst, reported):
    response = login(client, analyst).post(f"/cases/{reported.id}/contact")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert CONTACT in page and "The reporter asked for feedback." in page
    assert response.headers["Cache-Control"] == "no-store"
    (entry,) = views()
    assert entry.actor_id == analyst.id
    assert (entry.target_type, entry.target_id) == ("submission", str(reported.submission_id))
    assert entry.details == {
        "submission": reported.submission.reference,
        "case": reported.reference,
    }
    login(client, analyst).post(f"/cases/{reported.id}/contact")
    assert len(views()) == 2  # every viewing


def test_the_contact_cannot_be_fetched_by_get(client, analyst, reported):
    assert login(client, analyst).get(f"/cases/{reported.id}/contact").status_code == 405
    assert views() == []


def test_the_public_cannot_see_the_contact(client, reported):
    response = client.post(f"/cases/{reported.id}/contact")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert views() == []


def test_an_inactive_account_cannot_see_the_contact(client, make, reported):
    user = make.user("analyst")
    login(client, user)
    user.active = False
    db.session.commit()
    response = client.post(f"/cases/{reported.id}/contact")
    assert response.status_code in (302, 403)
    assert views() == []


def test_showing_the_contact_needs_a_csrf_token(app, client, analyst, reported):
    login(client, analyst)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/cases/{reported.id}/contact")
    assert response.status_code == 400
    assert CONTACT not in response.get_data(as_text=True)
    assert views() == []


def test_a_purged_contact_is_gone_for_staff_too(client, analyst, make, reported):
    from casemgr import context
    from casemgr.cases import services as cases

    for action, fields in (("assign", {}), ("assess", {"classification": "not_illegal"})):
        cases.apply_action(
            db.session, reported, action, fields, actor=analyst.actor,
            now=NOW - timedelta(days=120), timings=context.timings(),
        )  # fmt: skip
    db.session.commit()
    assert retention.run(db.session, NOW, {"CONTACT_RETENTION_DAYS": 90})["purged"] == 1
    db.session.commit()
    page = login(client, analyst).get(f"/cases/{reported.id}").get_data(as_text=True)
    assert "Show contact" not in page and "Deleted on 2026-11-28" in page
    response = client.post(f"/cases/{reported.id}/contact")
    assert "were deleted on 2026-11-28" in response.get_data(as_text=True)
    assert views() == []

"""Reporters' contact details: encrypted at rest, shown only to those with a need
to know (CONTACT_VIEWERS: by default the case's assignee and supervisors), for a
reason, on an explicit audited action, and gone once the retention job purged
them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr import context, create_app
from casemgr.audit.models import AuditEntry
from casemgr.cases import services as cases
from casemgr.cases.services import MAX_CONTACT_REASON_LENGTH
from casemgr.extensions import db
from casemgr.jobs import retention
from casemgr.settings import ContactViewers
from tests.conftest import NOW, login

CONTACT = "reporter-77@example.net"
REASON = "The reporter asked to be called back about the second URL"
WITH_REASON = {"contact-reason": REASON}


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def reported(make):
    """A new case whose reporter left a contact; nobody holds it yet."""
    return make.report(
        "http://contact.example.com/x", reporter_contact=CONTACT, feedback_requested=True
    ).submission.cases[0]


@pytest.fixture
def held(reported, analyst):
    """The same case, taken by ``analyst``."""
    take(reported, analyst)
    return reported


def take(case, user):
    cases.apply_action(
        db.session, case, "assign", {}, actor=user.actor, now=NOW, timings=context.timings()
    )
    db.session.commit()


def views() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contact.view")))


def reveal(client, case, data=WITH_REASON):
    return client.post(f"/cases/{case.id}/contact", data=data)


def test_the_contact_is_encrypted_at_rest(app, reported):
    raw = db.session.execute(
        select(db.metadata.tables["submissions"].c.reporter_contact)
    ).scalar_one()
    assert CONTACT.encode() not in bytes(raw)
    assert b"reporter-77" not in bytes(raw)


def test_the_assignees_case_page_offers_the_contact_without_showing_it(client, analyst, held):
    page = login(client, analyst).get(f"/cases/{held.id}").get_data(as_text=True)
    assert "Show contact" in page and 'name="contact-reason"' in page
    assert "Reason for viewing" in page
    assert CONTACT not in page
    assert views() == []


def test_showing_the_contact_is_audited_with_its_reason(client, analyst, held):
    response = reveal(login(client, analyst), held)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert CONTACT in page and "The reporter asked for feedback." in page
    assert response.headers["Cache-Control"] == "no-store"
    (entry,) = views()
    assert entry.actor_id == analyst.id
    assert (entry.target_type, entry.target_id) == ("submission", str(held.submission_id))
    assert entry.details == {
        "submission": held.submission.reference,
        "case": held.reference,
        "reason": REASON,
    }
    reveal(login(client, analyst), held)
    assert len(views()) == 2  # every viewing


class TestWhoMaySee:
    """The default rule ("assignee"): the case's assignee, supervisors and admins."""

    def test_a_colleague_is_refused_and_nothing_is_audited(self, client, make, held):
        colleague = make.user("analyst")
        login(client, colleague)
        page = client.get(f"/cases/{held.id}").get_data(as_text=True)
        assert "Show contact" not in page and "Reporter&#39;s contact" not in page
        response = reveal(client, held)
        assert response.status_code == 403
        text = response.get_data(as_text=True)
        assert CONTACT not in text
        assert "only the case&#39;s assignee or a supervisor" in text
        assert views() == []

    def test_a_case_nobody_holds_shows_no_analyst_its_contact(self, client, analyst, reported):
        login(client, analyst)
        page = client.get(f"/cases/{reported.id}").get_data(as_text=True)
        assert "Show contact" not in page
        assert reveal(client, reported).status_code == 403
        assert views() == []

    @pytest.mark.parametrize("role", ["supervisor", "admin"])
    def test_supervisors_and_admins_see_any_case_s_contact(self, client, make, reported, role):
        user = make.user(role)
        login(client, user)
        assert "Show contact" in client.get(f"/cases/{reported.id}").get_data(as_text=True)
        response = reveal(client, reported)
        assert response.status_code == 200 and CONTACT in response.get_data(as_text=True)
        (entry,) = views()
        assert (entry.actor_id, entry.details["reason"]) == (user.id, REASON)

    def test_the_refusal_does_not_tell_whether_there_is_a_contact(self, client, make):
        without = make.report("http://nothing.example.com/x").submission.cases[0]
        with_one = make.report(
            "http://something.example.com/x", reporter_contact=CONTACT
        ).submission.cases[0]
        login(client, make.user("analyst"))
        answers = [reveal(client, case) for case in (without, with_one)]
        assert [a.status_code for a in answers] == [403, 403]
        pages = [
            client.get(f"/cases/{case.id}").get_data(as_text=True) for case in (without, with_one)
        ]
        for page in pages:
            assert "Show contact" not in page and "Reporter&#39;s contact" not in page


class TestTheReason:
    def test_a_missing_reason_names_the_field_and_shows_nothing(self, client, analyst, held):
        for data in ({}, {"contact-reason": "   "}):
            response = reveal(login(client, analyst), held, data)
            page = response.get_data(as_text=True)
            assert response.status_code == 422
            assert "Reason for viewing" in page and "required" in page
            assert CONTACT not in page
        assert views() == []

    def test_a_reason_too_long_is_refused(self, client, analyst, held):
        data = {"contact-reason": "x" * (MAX_CONTACT_REASON_LENGTH + 1)}
        response = reveal(login(client, analyst), held, data)
        assert response.status_code == 422
        assert CONTACT not in response.get_data(as_text=True)
        assert views() == []

    def test_the_service_refuses_a_blank_or_unprintable_reason_too(self, analyst, held):
        from casemgr.errors import ValidationFailed

        for reason in ("", "  ", "x" * 301, "line\nbreak"):
            with pytest.raises(ValidationFailed) as refused:
                cases.reveal_contact(
                    db.session, held, reason=reason, viewers=ContactViewers.ASSIGNEE,
                    cipher=context.cipher(), actor=analyst.actor, now=context.now(),
                )  # fmt: skip
            assert list(refused.value.fields) == ["reason"]
        assert views() == []


@pytest.mark.parametrize(
    ("viewers", "assignee", "colleague", "supervisor"),
    [
        ("assignee", 200, 403, 200),
        ("supervisors", 403, 403, 200),
        ("analysts", 200, 200, 200),
    ],
)
def test_each_setting(app, client, make, held, analyst, viewers, assignee, colleague, supervisor):
    app.extensions["casemgr.contact_viewers"] = ContactViewers(viewers)
    callers = {"assignee": analyst, "colleague": make.user("analyst")}
    callers["supervisor"] = make.user("supervisor")
    expected = {"assignee": assignee, "colleague": colleague, "supervisor": supervisor}
    for name, user in callers.items():
        login(client, user)
        offered = "Show contact" in client.get(f"/cases/{held.id}").get_data(as_text=True)
        assert offered is (expected[name] == 200), (viewers, name)
        assert reveal(client, held).status_code == expected[name], (viewers, name)
        client.post("/logout")
    assert len(views()) == [assignee, colleague, supervisor].count(200)


def test_the_setting_is_read_at_start_and_a_wrong_value_stops_the_app(app):
    assert context.contact_viewers() is ContactViewers.ASSIGNEE  # the default
    made = create_app({"TESTING": True, "CONTACT_VIEWERS": "supervisors"})
    assert made.extensions["casemgr.contact_viewers"] is ContactViewers.SUPERVISORS
    with pytest.raises(RuntimeError, match="CONTACT_VIEWERS is 'everyone'; it must be one of"):
        create_app({"TESTING": True, "CONTACT_VIEWERS": "everyone"})


def test_the_contact_cannot_be_fetched_by_get(client, analyst, held):
    assert login(client, analyst).get(f"/cases/{held.id}/contact").status_code == 405
    assert views() == []


def test_the_public_cannot_see_the_contact(client, reported):
    response = reveal(client, reported)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert views() == []


def test_an_inactive_account_cannot_see_the_contact(client, make, reported):
    user = make.user("supervisor")
    login(client, user)
    user.active = False
    db.session.commit()
    response = reveal(client, reported)
    assert response.status_code in (302, 403)
    assert views() == []


def test_showing_the_contact_needs_a_csrf_token(app, client, analyst, held):
    login(client, analyst)
    app.config["WTF_CSRF_ENABLED"] = True
    response = reveal(client, held)
    assert response.status_code == 400
    assert CONTACT not in response.get_data(as_text=True)
    assert views() == []


def test_the_case_page_form_carries_its_csrf_token(app, client, analyst, held):
    login(client, analyst)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/cases/{held.id}").get_data(as_text=True)
    token = page.split('name="contact-csrf_token" type="hidden" value="')[1].split('"')[0]
    response = reveal(client, held, {**WITH_REASON, "contact-csrf_token": token})
    assert response.status_code == 200 and CONTACT in response.get_data(as_text=True)


def test_a_purged_contact_is_gone_for_staff_too(client, analyst, reported):
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
    response = reveal(client, reported)
    assert "were deleted on 2026-11-28" in response.get_data(as_text=True)
    assert views() == []

"""Each member of staff reads the staff screens in the language of their account
(/account); the API and the sign-in pages stay in the default language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth.tokens import issue_token
from casemgr.extensions import db
from tests.conftest import login

KHMER_NAV = ("ជួរករណី", "របាយការណ៍ថ្មី", "បញ្ជីស្ថាប័ន", "ចាកចេញ")
ENGLISH_NAV = ("Queue", "New report", "Directory", "Sign out")


def speaking(make, language: str | None, role: str = "analyst"):
    user = make.user(role)
    user.language = language
    db.session.commit()
    return user


def language_audit() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.update").order_by(AuditEntry.id)
        )
    )


@pytest.mark.parametrize("language", [None, "en"])
def test_staff_pages_are_in_english_by_default(client, make, language):
    page = login(client, speaking(make, language)).get("/cases/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert all(word in page for word in ENGLISH_NAV)
    assert not any(word in page for word in KHMER_NAV)


def test_a_khmer_speakers_pages_are_in_khmer(client, make):
    client = login(client, speaking(make, "km"))
    queue = client.get("/cases/").get_data(as_text=True)
    assert '<html lang="km">' in queue
    assert all(word in queue for word in KHMER_NAV)
    account = client.get("/account").get_data(as_text=True)
    assert "គណនីរបស់អ្នក" in account and "ភាសានៃអេក្រង់បុគ្គលិក" in account
    assert "អ្នកវិភាគ" in account  # the role, in words


def test_the_menu_follows_the_language(client, make):
    supervisor = speaking(make, "km", "supervisor")
    page = login(client, supervisor).get("/notices/alerts").get_data(as_text=True)
    assert "ស្ថិតិ" in page and "លិខិត" in page  # Statistics, Letters: registered items
    assert "ការព្រមាន (0)" in page and "ប្រអប់ចេញ (0)" in page  # with their counts


def test_wtforms_messages_are_translated(client, make):
    client = login(client, speaking(make, "km"))
    response = client.post("/account/password", data={})
    assert response.status_code == 422
    assert "ប្រអប់នេះត្រូវតែបំពេញ។" in response.get_data(as_text=True)


def test_choosing_khmer(client, analyst):
    client = login(client, analyst)
    page = client.get("/account").get_data(as_text=True)
    assert '<option value="km">ខ្មែរ</option>' in page
    assert '<option selected value="">Default language (English)</option>' in page
    response = client.post("/account/language", data={"language": "km"})
    assert response.status_code == 302 and response.location == "/account"
    db.session.refresh(analyst)
    assert analyst.language == "km"
    (entry,) = language_audit()
    assert entry.actor_id == analyst.id and entry.target_id == str(analyst.id)
    assert entry.details == {"language": [None, "km"]}
    page = client.get("/account").get_data(as_text=True)
    assert "ភាសារបស់អ្នកត្រូវបានរក្សាទុក។" in page  # the message, in the language chosen
    assert '<option selected value="km">ខ្មែរ</option>' in page


def test_back_to_the_default_language(client, make):
    user = speaking(make, "km")
    client = login(client, user)
    assert client.post("/account/language", data={"language": ""}).status_code == 302
    db.session.refresh(user)
    assert user.language is None
    assert language_audit()[-1].details == {"language": ["km", None]}
    assert "Sign out" in client.get("/cases/").get_data(as_text=True)


def test_the_same_language_again_changes_and_records_nothing(client, make):
    client = login(client, speaking(make, "km"))
    assert client.post("/account/language", data={"language": "km"}).status_code == 302
    assert language_audit() == []


@pytest.mark.parametrize("value", ["xx", "fr", "KM", "k" * 5000])
def test_an_unknown_language_is_refused_naming_the_field(client, analyst, value):
    client = login(client, analyst)
    response = client.post("/account/language", data={"language": value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Language of the staff screens" in page
    assert "must be one of: en, km (or empty for the default language)" in page
    db.session.refresh(analyst)
    assert analyst.language is None and language_audit() == []


def test_a_nul_in_the_language_is_refused_by_the_input_guard(client, analyst):
    client = login(client, analyst)
    response = client.post("/account/language", data={"language": "km\x00"})
    assert response.status_code == 400
    assert "language: must not contain control characters" in response.get_data(as_text=True)
    db.session.refresh(analyst)
    assert analyst.language is None and language_audit() == []


def test_a_language_dropped_from_the_settings_falls_back_to_the_default(app, client, make):
    client = login(client, speaking(make, "km"))
    app.config["LANGUAGES"] = ["en"]
    assert "Sign out" in client.get("/cases/").get_data(as_text=True)


def test_the_api_stays_in_the_default_language(client, make):
    user = speaking(make, "km", "supervisor")
    token = issue_token(db.session, user, now=context.now(), label="tests")
    db.session.commit()
    login(client, user)  # a session cookie of a Khmer speaker does not matter either
    response = client.get(
        "/api/v1/stats",
        query_string={"from": "yesterday"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert "is not a date: use YYYY-MM-DD" in response.get_data(as_text=True)


def test_the_sign_in_page_is_in_the_default_language(client, make):
    user = speaking(make, "km")
    login(client, user)
    client.post("/logout")
    page = client.get("/login").get_data(as_text=True)
    assert "Staff sign-in" in page and "You are signed out." in page


class TestForm:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_language_form_needs_its_csrf_token(self, client, analyst):
        from tests.factories import PASSWORD

        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/login", data={"email": analyst.email, "password": PASSWORD, "csrf_token": token}
        )
        response = client.post("/account/language", data={"language": "km"})
        assert response.status_code == 400
        db.session.refresh(analyst)
        assert analyst.language is None


def test_anonymous_is_sent_to_sign_in(client):
    for response in (client.get("/account"), client.post("/account/language", data={})):
        assert response.status_code == 302 and "/login" in response.location

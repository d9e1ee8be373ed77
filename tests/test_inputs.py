"""The guard on incoming text (casemgr/inputs.py): each channel, the answers of
pages and API, and the free-text rule."""

from __future__ import annotations

import io
import json

import pytest
from wtforms import Form, TextAreaField

from casemgr.api import openapi
from casemgr.inputs import FREE_TEXT_FIELDS, MESSAGE, has_unwanted, is_free_text, shown
from tests.api.contract import ApiClient
from tests.conftest import login

UNWANTED = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ud800", "\udfff"]
ALLOWED = ["\t", "\n", "\r", " ", "é", "\x7f", "\u200b", "😀"]


@pytest.mark.parametrize("ch", UNWANTED)
def test_the_unwanted_characters(ch):
    assert has_unwanted(f"a{ch}b")


@pytest.mark.parametrize("ch", ALLOWED)
def test_what_is_let_through(ch):
    assert not has_unwanted(f"a{ch}b")


def test_a_name_is_shown_with_escapes():
    assert shown("a\x00b") == "a\\x00b"


@pytest.fixture
def api(client, app, analyst) -> ApiClient:
    from casemgr import context
    from casemgr.auth.tokens import issue_token
    from casemgr.extensions import db

    token = issue_token(db.session, analyst, now=context.now(), label="tests")
    db.session.commit()
    document = openapi.document(
        max_urls=app.config["MAX_URLS_PER_SUBMISSION"],
        max_per_page=app.config["API_MAX_PER_PAGE"],
        languages=app.config["LANGUAGES"],
    )
    return ApiClient(client, document).as_token(token)


def _page_refusal(response, field: str) -> None:
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"{field}: {MESSAGE}" in page
    assert "\x00" not in page


def _api_refusal(response, field: str) -> None:
    assert response.status_code == 422
    assert response.json["error"] == "validation"
    assert response.json["fields"] == {field: [MESSAGE]}


class TestPages:
    def test_a_query_value(self, client, analyst):
        _page_refusal(login(client, analyst).get("/directory/?q=%00"), "q")

    def test_a_query_name(self, client, analyst):
        _page_refusal(login(client, analyst).get("/cases/?a%01b=1"), "a\\x01b")

    def test_the_public_pages_too(self, client):
        assert client.get("/report?lang=%1b").status_code == 400

    def test_a_form_field_value(self, client, make, analyst):
        case = make.case("new")
        response = login(client, analyst).post(
            f"/cases/{case.id}/actions/assign", data={"assign-version": "1\x00"}
        )
        _page_refusal(response, "assign-version")

    def test_a_form_field_name(self, client, make, analyst):
        case = make.case("new")
        response = login(client, analyst).post(f"/cases/{case.id}/notes", data={"bo\x00dy": "x"})
        _page_refusal(response, "bo\\x00dy")

    def test_a_header(self, client, analyst):
        login(client, analyst)
        response = client.get("/cases/", headers={"Accept-Language": "en\x01"})
        _page_refusal(response, "Accept-Language")

    def test_a_file_sent_to_the_public_form_is_left_unread(self, client):
        # The page refuses uploads unread (415): the guard does not parse them first.
        response = client.post(
            "/report",
            data={"bad\x00name": "x", "file": (io.BytesIO(b"data"), "a.jpg")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 415

    def test_a_staff_upload_form_is_checked(self, client, supervisor):
        response = login(client, supervisor).post(
            "/directory/import",
            data={"bad\x00name": "x", "file": (io.BytesIO(b"name\n"), "a.csv")},
            content_type="multipart/form-data",
        )
        _page_refusal(response, "bad\\x00name")

    def test_tab_and_line_breaks_pass(self, client, analyst):
        assert login(client, analyst).get("/directory/?q=a%09b%0Ac%0D").status_code == 200


class TestFreeText:
    def test_a_note_comes_back_with_the_text_and_the_error(self, client, make, analyst):
        case = make.case("triage")
        response = login(client, analyst).post(
            f"/cases/{case.id}/notes", data={"body": "Called\x00 the provider"}
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "Called the provider" in page and "control characters" in page

    def test_the_public_report_keeps_what_was_typed(self, client):
        from tests.public.helpers import csrf_token

        response = client.post(
            "/report",
            data={
                "urls": "http://example.com/a",
                "description": "seen on a forum\x00",
                "csrf_token": csrf_token(client),
            },
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "seen on a forum" in page and "hidden control characters" in page

    def test_prefixed_and_sub_form_fields_match_by_their_last_part(self):
        assert is_free_text("url_12-message") and is_free_text("note-body")
        assert not is_free_text("assign-version") and not is_free_text("message-version")


def _forms(cls=Form):
    for sub in cls.__subclasses__():
        yield sub
        yield from _forms(sub)


def test_every_multi_line_field_of_every_form_is_free_text(app):
    multi_line = set()
    for form in _forms():
        for name in dir(form):
            unbound = getattr(form, name, None)
            field_class = getattr(unbound, "field_class", None)
            if field_class is TextAreaField:  # sub-forms are walked on their own
                multi_line.add(name)
    from casemgr.cases.workflow import RULES

    multi_line |= {
        spec.name for rule in RULES.values() for spec in rule.fields if spec.kind == "text"
    }
    assert multi_line and multi_line <= FREE_TEXT_FIELDS


class TestApi:
    def test_a_query_value(self, api):
        _api_refusal(api.get("/api/v1/cases", query_string={"q": "a\x00b"}), "q")

    def test_a_json_string_deep_down(self, api, make):
        case = make.case("new")
        body = {"body": "ok", "extra": {"deep": ["x", {"k": "nul \x00"}]}}
        response = api.post(
            f"/api/v1/cases/{case.id}/notes",
            data=json.dumps(body),
            content_type="application/json",
        )
        _api_refusal(response, "extra")

    def test_a_json_key(self, api, make):
        case = make.case("new")
        response = api.post(
            f"/api/v1/cases/{case.id}/notes",
            data=json.dumps({"body": "ok", "bad\x1bkey": 1}),
            content_type="application/json",
        )
        _api_refusal(response, "bad\\x1bkey")

    def test_an_unpaired_surrogate(self, api, make):
        case = make.case("new")
        response = api.post(
            f"/api/v1/cases/{case.id}/notes",
            data=b'{"body": "half \\ud800"}',
            content_type="application/json",
        )
        _api_refusal(response, "body")

    def test_a_header(self, api, make):
        case = make.case("new")
        response = api.post(
            f"/api/v1/cases/{case.id}/actions/assign",
            json={},
            headers={"If-Match": '"1\x00"'},
        )
        _api_refusal(response, "If-Match")

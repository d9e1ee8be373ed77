"""API: GET /api/v1/notices (filtered, paged) and GET /api/v1/notices/<id>/pdf."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from casemgr import context
from casemgr.auth import tokens
from casemgr.extensions import db
from casemgr.notices.api import OPENAPI_PATHS, OPENAPI_SCHEMAS
from tests.conftest import NOW
from tests.jobs.conftest import letters, run_notices, run_reminders

H = timedelta(hours=1)


def token_of(user) -> str:
    value = tokens.issue_token(db.session, user, now=context.now())
    db.session.commit()
    return value


@pytest.fixture
def token(app, supervisor):
    """A supervisor's: the letters list is theirs, as the Letters page is."""
    return token_of(supervisor)


@pytest.fixture
def analyst_token(app, analyst):
    return token_of(analyst)


@pytest.fixture
def sent(app, make, queue):
    alpha, beta = make.organisation(name="Alpha"), make.organisation(name="Beta")
    cases = [queue(alpha), queue(alpha), queue(beta)]
    run_notices(app, NOW)
    run_reminders(app, NOW + 72 * H)
    return cases


def get(client, token, path):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("path", ["/api/v1/notices", "/api/v1/notices/1/pdf"])
@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic abc", "Bearer " + "x" * 400])
def test_needs_a_valid_token(client, sent, path, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_browser_is_not_enough(client, sent, analyst):
    from tests.conftest import login

    login(client, analyst)
    assert client.get("/api/v1/notices").status_code == 401


def test_lists_letters_newest_first(client, sent, token):
    response = get(client, token, "/api/v1/notices")
    assert response.status_code == 200
    body = response.json
    assert (body["total"], body["page"], body["per_page"]) == (4, 1, 50)
    assert [item["reference"] for item in body["items"]] == [
        "CM-N-2026-000004",
        "CM-N-2026-000003",
        "CM-N-2026-000002",
        "CM-N-2026-000001",
    ]
    first = body["items"][-1]
    assert first["kind"] == "notice"
    assert first["recipient"]["name"] == "Alpha"
    assert first["cases"] == [
        {"id": sent[0].id, "reference": sent[0].reference},
        {"id": sent[1].id, "reference": sent[1].reference},
    ]
    assert first["pdf_url"] == f"/api/v1/notices/{first['id']}/pdf"
    assert first["created_at"] == "2026-11-28T09:00:00+00:00"
    assert set(first) == set(OPENAPI_SCHEMAS["NoticeWithCases"]["properties"])
    reminder = body["items"][1]
    assert reminder["kind"] == "reminder"
    assert reminder["previous_reference"] == "CM-N-2026-000001"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=reminder", ["CM-N-2026-000004", "CM-N-2026-000003"]),
        ("kind=notice&recipient={beta}", ["CM-N-2026-000002"]),
        ("case={case}", ["CM-N-2026-000003", "CM-N-2026-000001"]),
        ("from=2026-11-29", ["CM-N-2026-000004", "CM-N-2026-000003"]),
        ("to=2026-11-28", ["CM-N-2026-000002", "CM-N-2026-000001"]),
        (
            "from=2026-12-01T09:00:00Z&to=2026-12-01T09:00:01Z",
            ["CM-N-2026-000004", "CM-N-2026-000003"],
        ),
        ("per_page=1&page=2", ["CM-N-2026-000003"]),
        ("page=9", []),
    ],
)
def test_filters_and_pages(client, sent, token, query, expected):
    beta = letters()[1].recipient_id
    path = "/api/v1/notices?" + query.format(beta=beta, case=sent[0].id)
    body = get(client, token, path).json
    assert [item["reference"] for item in body["items"]] == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=poem", "kind"),
        ("case=abc", "case"),
        ("case=0", "case"),
        (f"recipient={2**40}", "recipient"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-12-01&to=2026-11-01", "to"),
        ("page=0", "page"),
        ("per_page=1000", "per_page"),
        ("colour=blue", "colour"),
        ("kind=notice&kind=reminder", "kind"),
    ],
)
def test_bad_parameters_are_422_naming_them(client, sent, token, query, field):
    response = get(client, token, f"/api/v1/notices?{query}")
    assert response.status_code == 422
    assert response.json["error"] == "validation"
    assert field in response.json["fields"]


class TestAnalysts:
    """The roles of the web: the Letters page is the supervisors', a case's letters
    (on its page) and a letter's PDF any member of staff's."""

    @pytest.mark.parametrize("query", ["", "?kind=notice", "?case=", "?page=1"])
    def test_an_analyst_token_cannot_list_the_letters(self, client, sent, analyst_token, query):
        response = get(client, analyst_token, f"/api/v1/notices{query}")
        assert response.status_code == 403
        assert response.json == {
            "error": "forbidden",
            "message": "listing letters needs the supervisor role; any member of staff may "
            "list one case's letters with case=<id>",
        }

    def test_an_analyst_token_lists_a_cases_letters_as_its_page_shows_them(
        self, client, sent, analyst_token, token
    ):
        path = f"/api/v1/notices?case={sent[0].id}"
        answer = get(client, analyst_token, path)
        assert answer.status_code == 200
        assert answer.json == get(client, token, path).json
        assert [item["reference"] for item in answer.json["items"]] == [
            "CM-N-2026-000003",
            "CM-N-2026-000001",
        ]
        assert get(client, analyst_token, "/api/v1/notices?case=abc").status_code == 422

    def test_an_analyst_token_reads_a_letters_pdf(self, client, sent, analyst_token):
        notice = letters()[0]
        response = get(client, analyst_token, f"/api/v1/notices/{notice.id}/pdf")
        assert response.status_code == 200 and response.data == notice.pdf

    def test_the_document_says_so(self):
        listing = OPENAPI_PATHS["/notices"]["get"]
        assert "403" in listing["responses"] and "case" in listing["description"]
        assert "403" not in OPENAPI_PATHS["/notices/{notice_id}/pdf"]["get"]["responses"]


def test_pdf_is_the_stored_bytes(client, sent, token):
    notice = letters()[0]
    response = get(client, token, f"/api/v1/notices/{notice.id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert (
        response.headers["Content-Disposition"]
        == "attachment; filename=CM-N-2026-000001-notice.pdf"
    )
    assert hashlib.sha256(response.data).hexdigest() == notice.sha256


@pytest.mark.parametrize("notice_id", ["999", str(2**31), str(2**70)])
def test_pdf_of_no_letter_is_404_json(client, sent, token, notice_id):
    response = get(client, token, f"/api/v1/notices/{notice_id}/pdf")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_openapi_fragment_names_both_paths():
    assert set(OPENAPI_PATHS) == {"/notices", "/notices/{notice_id}/pdf"}
    params = {p["name"] for p in OPENAPI_PATHS["/notices"]["get"]["parameters"]}
    from casemgr.notices.api import PARAMETERS

    assert params == set(PARAMETERS)

"""Who may call the API: a bearer token of an active user, never a session cookie."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casemgr import context
from casemgr.auth.models import ApiToken
from casemgr.auth.tokens import revoke_token
from casemgr.extensions import db
from tests.conftest import login

# Every operation but the document: (method, path). The OpenAPI test checks
# that this list and the document name the same operations.
PROTECTED = [
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/submissions/1"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/1"),
    ("POST", "/api/v1/cases/1/actions/assign"),
    ("POST", "/api/v1/cases/1/notes"),
    ("POST", "/api/v1/cases/actions/take"),
    ("GET", "/api/v1/organizations"),
    ("POST", "/api/v1/organizations"),
    ("GET", "/api/v1/stats"),
    ("GET", "/api/v1/notices"),
    ("GET", "/api/v1/notices/1/pdf"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_anonymous_gets_401_with_a_bearer_challenge(anonymous, make, method, path):
    make.case("new")
    response = anonymous.open(method, path, json={})
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "invalid_token" not in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cm_not-a-token",
        "Bearer " + "x" * 5000,
        "Bearer tökén",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer    ",
        "cm_no_scheme",
    ],
)
def test_a_bad_authorization_header_gets_401(anonymous, header):
    response = anonymous.get("/api/v1/cases", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_named_invalid(anonymous):
    response = anonymous.as_token("cm_unknown").get("/api/v1/cases")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_valid_token_is_let_in_and_its_use_stamped(as_analyst):
    assert as_analyst.get("/api/v1/cases").status_code == 200
    token = db.session.scalar(db.select(ApiToken))
    assert token.last_used_at == context.now()


def test_the_scheme_name_is_case_insensitive(anonymous, analyst, token_for):
    token = token_for(analyst)
    response = anonymous.get("/api/v1/cases", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_a_revoked_token_gets_401(anonymous, analyst, token_for):
    token = token_for(analyst)
    db.session.scalar(db.select(ApiToken)).revoked_at = context.now() - timedelta(minutes=1)
    db.session.commit()
    response = anonymous.as_token(token).get("/api/v1/cases")
    assert response.status_code == 401


def test_the_next_call_after_revoking_gets_401(anonymous, analyst, admin, token_for):
    """Revoking takes effect at once: no cache of tokens stands between."""
    client = anonymous.as_token(token_for(analyst))
    assert client.get("/api/v1/cases").status_code == 200
    token_id = db.session.scalar(db.select(ApiToken.id))
    revoke_token(db.session, token_id, actor=admin.actor, now=context.now())
    db.session.commit()
    response = client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_token_of_a_deactivated_user_gets_401(anonymous, analyst, token_for):
    token = token_for(analyst)
    analyst.active = False
    db.session.commit()
    response = anonymous.as_token(token).get("/api/v1/cases")
    assert response.status_code == 401


class TestSessionCookies:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": False}  # to sign in with tests.conftest.login

    @pytest.mark.parametrize(("method", "path"), PROTECTED)
    def test_a_session_cookie_does_not_authenticate_the_api(
        self, client, anonymous, analyst, make, method, path
    ):
        make.case("new")
        login(client, analyst)
        assert client.get("/cases/").status_code == 200  # the cookie works for pages
        response = anonymous.open(method, path, json={})
        assert response.status_code == 401


def test_the_document_is_public(anonymous):
    response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.1")


def test_api_answers_are_not_cached(as_analyst):
    assert as_analyst.get("/api/v1/cases").headers["Cache-Control"] == "no-store"


class TestWithCsrfOn:
    """CSRF protects the forms; the API is exempt since no browser sends the token."""

    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}  # as in production, whatever the test default

    def test_api_posts_need_no_csrf_token(self, as_supervisor):
        response = as_supervisor.post(
            "/api/v1/organizations", json={"kind": "police", "name": "Cyber unit"}
        )
        assert response.status_code == 201

    def test_forms_still_need_one(self, client, analyst):
        response = client.post(
            "/login", data={"email": analyst.email, "password": "correct horse battery"}
        )
        assert response.status_code == 400

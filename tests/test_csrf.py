"""CSRF protection is on outside tests; here it is switched on to prove it.

Two locks on every staff form: the token (Flask-WTF, bound to the session),
and the Origin a browser names on every POST (casemgr/security.py), which
must be this site's. Behind TLS the Referer is not checked: staff pages send
one to this site only, and the anonymous pages none at all.
"""

import re

import pytest

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from tests.factories import PASSWORD

HTTPS = "https://casemgr.example.org"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_a_form_without_its_token_is_refused_kindly(client, analyst):
    response = client.post("/login", data={"email": analyst.email, "password": PASSWORD})
    assert response.status_code == 400
    assert b"Please submit it again" in response.data


def test_a_forged_token_is_refused(client, analyst):
    response = client.post(
        "/login", data={"email": analyst.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400


def test_the_form_with_its_token_works(client, analyst):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"email": analyst.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def _token(client, path="/login", base_url=HTTPS):
    page = client.get(path, base_url=base_url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page)[1]


@pytest.mark.parametrize("referrer", [None, "https://evil.example/"])
def test_forms_work_over_https_without_a_referrer(app, client, analyst, referrer):
    """Behind TLS the Referer is not what decides (a privacy tool may drop it):
    the token and the Origin do."""
    token = _token(client)
    headers = {"Referer": referrer} if referrer else {}
    response = client.post(
        "/login",
        base_url=HTTPS,
        headers=headers,
        data={"email": analyst.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


def test_a_form_from_this_sites_origin_works_over_https(client, analyst):
    token = _token(client)
    response = client.post(
        "/login",
        base_url=HTTPS,
        headers={"Origin": HTTPS},
        data={"email": analyst.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",  # a sandboxed frame or a data: URL
        "http://casemgr.example.org",  # this host, but not over TLS
        "https://casemgr.example.org:8443",
        "https://casemgr.example.org.evil.example",
    ],
)
def test_a_form_from_another_origin_is_refused_even_with_its_token(client, analyst, origin):
    token = _token(client)
    response = client.post(
        "/login",
        base_url=HTTPS,
        headers={"Origin": origin},
        data={"email": analyst.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 400
    assert b"Please submit it again" in response.data
    refused = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action == "security.csrf_refused")
    ).one()
    assert refused.details["reason"].startswith("The form was sent from another site")


def test_a_signed_in_action_from_another_origin_changes_nothing(client, analyst, make):
    case = make.case("new")
    login_with_tokens(client, analyst)
    token = _token(client, f"/cases/{case.id}")
    response = client.post(
        f"/cases/{case.id}/actions/assign",
        base_url=HTTPS,
        headers={"Origin": "https://evil.example"},
        data={"csrf_token": token, "assign-version": case.version},
    )
    assert response.status_code == 400
    db.session.refresh(case)
    assert case.status == "new" and case.assignee_id is None


def test_the_api_has_no_origin_check(client, analyst):
    """Bearer tokens, no cookies: a page elsewhere may call the API with the
    token it holds (the check would only break such a client)."""
    from casemgr import context
    from casemgr.auth.tokens import issue_token

    headers = {
        "Authorization": f"Bearer {issue_token(db.session, analyst, now=context.now(), label='t')}"
    }
    db.session.commit()
    response = client.post(
        "/api/v1/cases/999/actions/assign",
        json={},
        headers={**headers, "Origin": "https://x.example"},
    )
    assert response.status_code == 404


def login_with_tokens(client, user):
    """Sign in through the real forms, tokens and all, over HTTPS."""
    token = _token(client)
    response = client.post(
        "/login",
        base_url=HTTPS,
        headers={"Origin": HTTPS},
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302 and response.location.endswith("/cases/"), response.location


def test_over_https_a_post_without_the_sessions_token_is_still_refused(client, analyst):
    response = client.post(
        "/login",
        base_url="https://casemgr.example.org",
        data={"email": analyst.email, "password": PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 400

"""CSRF protection is on outside tests; here it is switched on to prove it."""

import pytest

from tests.factories import PASSWORD


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


@pytest.mark.parametrize("referrer", [None, "https://evil.example/"])
def test_forms_work_over_https_without_a_referrer(app, client, analyst, referrer):
    """Behind TLS browsers send no Referer (every page says no-referrer): the
    token alone decides, as on plain HTTP."""
    https = "https://casemgr.example.org"
    page = client.get("/login", base_url=https).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    headers = {"Referer": referrer} if referrer else {}
    response = client.post(
        "/login",
        base_url=https,
        headers=headers,
        data={"email": analyst.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


def test_over_https_a_post_without_the_sessions_token_is_still_refused(client, analyst):
    response = client.post(
        "/login",
        base_url="https://casemgr.example.org",
        data={"email": analyst.email, "password": PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 400

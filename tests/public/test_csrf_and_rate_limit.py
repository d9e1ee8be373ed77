"""A stale form and a busy connection: the reporter is told, and keeps their text."""

from __future__ import annotations

import re

import pytest
from flask import current_app

from casemgr.privacy import client_key
from tests.public.helpers import counts, csrf_token, post_report, text

TYPED = "http://example.com/one\nhttps://example.org/two"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "PUBLIC_REPORT_RATE_LIMIT": "2 per minute"}


def _token_in(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("token", [None, "", "stale-or-forged.token.value"])
def test_a_missing_or_stale_token_re_renders_the_form_with_the_text(client, token):
    data = {"urls": TYPED, "description": "what I typed"}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/report", data=data)
    page = text(response)
    assert response.status_code == 400
    assert "Please send the form again." in page
    assert TYPED in page and "what I typed" in page
    assert counts() == (0, 0)
    # The page carries a fresh token: sending it again works.
    again = client.post("/report", data={**data, "csrf_token": _token_in(page)})
    assert again.status_code == 303
    assert counts() == (1, 2)


def test_a_token_from_another_browser_is_stale(app, client):
    other = app.test_client()
    response = client.post("/report", data={"urls": TYPED, "csrf_token": csrf_token(other)})
    assert response.status_code == 400
    assert TYPED in text(response)


def test_the_third_report_in_a_minute_is_refused_and_keeps_the_text(client):
    for n in range(2):
        assert post_report(client, urls=f"http://example.com/{n}").status_code == 303
    response = post_report(client, urls=TYPED, description="still here", contact="me@x.org")
    page = text(response)
    assert response.status_code == 429
    assert "Too many reports have been sent from your connection" in page
    assert TYPED in page and "still here" in page and "me@x.org" in page
    assert 'name="csrf_token"' in page
    assert counts() == (2, 2)


def test_the_limit_counts_per_client(client):
    for n in range(2):
        post_report(client, urls=f"http://example.com/{n}")
    other = post_report(
        client, urls="http://example.com/x", environ_base={"REMOTE_ADDR": "198.51.100.9"}
    )
    assert other.status_code == 303


def test_reading_the_form_is_not_limited(client):
    for _ in range(5):
        assert client.get("/report").status_code == 200


def test_the_rate_limit_key_is_a_salted_hash_never_the_address(app):
    def key_for(address: str) -> str:
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            return client_key()

    key = key_for("203.0.113.77")
    assert "203.0.113.77" not in key and "203" not in key
    assert key == key_for("203.0.113.77") != key_for("203.0.113.78")
    # One IPv6 subscriber (a /64) is one client.
    assert key_for("2001:db8:1:2::1") == key_for("2001:db8:1:2:ffff::9")
    assert key_for("2001:db8:1:2::1") != key_for("2001:db8:1:3::1")
    # Another process has another salt, so another key.
    with app.app_context():
        salt = current_app.extensions["casemgr.ratelimit_salt"]
        current_app.extensions["casemgr.ratelimit_salt"] = b"another process"
        try:
            assert key_for("203.0.113.77") != key
        finally:
            current_app.extensions["casemgr.ratelimit_salt"] = salt


def test_the_limiter_storage_holds_no_address(app, client):
    from casemgr.extensions import limiter

    for n in range(3):
        post_report(
            client, urls=f"http://example.com/{n}", environ_base={"REMOTE_ADDR": "203.0.113.77"}
        )
    keys = " ".join(limiter._storage.storage.keys())  # the memory storage's counters
    assert keys and "203.0.113.77" not in keys

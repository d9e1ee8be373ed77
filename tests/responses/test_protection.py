"""The response page's guards: its CSRF token, its rate limit, and logs that
never hold a link's token."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from casemgr.extensions import db
from casemgr.gunicorn_logging import anonymise_atoms
from casemgr.privacy import AnonymousRequestLogFilter, loggable_path
from casemgr.responses.models import ProviderResponse


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "NOTICE_RESPONSE_RATE_LIMIT": "5 per minute"}


def test_a_post_without_its_csrf_token_records_nothing(client, send_letter):
    sent = send_letter(1)
    response = client.post(sent.path, data={f"url_{sent.cases[0].id}-answer": "removed"})
    assert response.status_code == 400
    assert db.session.scalar(select(ProviderResponse)) is None


def test_the_form_carries_its_token_and_works_with_it(client, send_letter):
    sent = send_letter(1)
    page = client.get(sent.path).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        sent.path,
        data={f"url_{sent.cases[0].id}-answer": "removed", "csrf_token": token},
    )
    assert response.status_code == 303


def test_too_many_requests_are_refused_for_a_while(client, send_letter):
    sent = send_letter(1)
    statuses = [client.get(sent.path).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert "Too many" in client.get("/respond/" + "A" * 43).get_data(as_text=True)


def test_no_log_line_holds_a_token():
    token = "Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg"
    assert loggable_path(f"/respond/{token}") == "/respond/[token]"
    assert loggable_path("/cases/12") == "/cases/12"
    record = logging.LogRecord(
        "werkzeug",
        20,
        "",
        0,
        '127.0.0.1 - - [04/Dec/2026 09:00:00] "%s" %s %s',
        (f"POST /respond/{token}?lang=km HTTP/1.1", "303", "-"),
        None,
    )
    AnonymousRequestLogFilter().filter(record)
    assert token not in record.getMessage() and "127.0.0.1" not in record.getMessage()
    atoms = anonymise_atoms(
        {"r": f"GET /respond/{token} HTTP/1.1", "U": f"/respond/{token}", "h": "127.0.0.1"},
        {"PATH_INFO": f"/respond/{token}", "REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1"},
    )
    assert token not in repr(atoms)


def test_a_provider_answers_over_https_with_no_referrer(client, send_letter):
    """The page says no-referrer, so a provider's browser sends no Referer
    behind TLS and "null" as the form's Origin: the link and the form's token
    decide, not the origin (the page has no session to protect)."""
    sent = send_letter(1)
    https = "https://casemgr.example.org"
    page = client.get(sent.path, base_url=https).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        sent.path,
        base_url=https,
        headers={"Origin": "null"},
        data={f"url_{sent.cases[0].id}-answer": "removed", "csrf_token": token},
    )
    assert response.status_code == 303

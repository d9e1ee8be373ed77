"""Codes tried again and again, from one address and from many: refused clearly."""

from __future__ import annotations

import re

import pytest

from casemgr.extensions import limiter
from tests.public.helpers import text
from tests.reporter.helpers import open_status, report_and_keep_code


@pytest.fixture
def app_config():
    return {
        "STATUS_RATE_LIMIT": "3 per minute",
        "STATUS_GLOBAL_RATE_LIMIT": "6 per minute",
        "WTF_CSRF_ENABLED": True,
    }


@pytest.fixture(autouse=True)
def fresh_counts(app):
    limiter.reset()
    yield
    limiter.reset()


WRONG = "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"


def test_a_right_code_costs_nothing_and_refused_ones_are_limited(client):
    code = report_and_keep_code(client)
    for _ in range(5):
        assert open_status(client, code).status_code == 200  # never counted
    for _ in range(3):
        assert open_status(client, WRONG).status_code == 404
    limited = open_status(client, WRONG)
    assert limited.status_code == 429
    assert "Too many codes have been tried" in text(limited)
    assert f'value="{WRONG}"' in text(limited)  # what was typed stays


def test_a_thousand_tries_from_many_addresses_meet_the_ceiling(app, client):
    report_and_keep_code(client)
    answers = []
    for attempt in range(1000):
        other = app.test_client()
        environ = {"REMOTE_ADDR": f"10.0.{attempt // 250}.{attempt % 250}"}
        page = other.get("/status", environ_base=environ).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = {"csrf_token": token, "code": WRONG}
        answers.append(other.post("/status", data=data, environ_base=environ).status_code)
        if answers[-1] == 429:
            break
    assert answers.count(404) == 6 and answers[-1] == 429

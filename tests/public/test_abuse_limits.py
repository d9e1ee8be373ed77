"""The public form's abuse limits, on the memory storage and on a real Redis.

Refused submissions cost nothing; accepted ones that open new cases count
towards ``PUBLIC_REPORT_RATE_LIMIT``; a submission whose URLs all have open
cases costs nothing; every POST counts towards the much higher
``PUBLIC_REPORT_FLOOD_LIMIT``. Each client is counted apart, by a salted hash.
"""

from __future__ import annotations

import os
import secrets

import pytest

from casemgr.privacy import client_key
from tests.public.helpers import counts, post_report

REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
REPORTER = "203.0.113.77"
NEIGHBOUR = "203.0.113.78"
BAD_URL = "ftp://example.com/not-a-web-address"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def storage(request) -> str:
    if request.param == "memory":
        return "memory://"
    redis = pytest.importorskip("redis", reason="the redis package is not installed")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def limits() -> dict:
    return {
        "PUBLIC_REPORT_RATE_LIMIT": "2 per minute",
        "PUBLIC_REPORT_FLOOD_LIMIT": "50 per minute",
    }


@pytest.fixture
def app_config(storage, limits):
    # A salt of this test's own: its counters meet no other test's, in Redis too.
    return {"RATELIMIT_STORAGE_URI": storage, "RATELIMIT_KEY_SALT": secrets.token_hex(16), **limits}


@pytest.fixture(autouse=True)
def _forget_counters(app, storage):
    yield
    if storage.startswith("redis"):
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for address in (REPORTER, NEIGHBOUR):
            with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
                hashed = client_key()
            for key in client.scan_iter(match=f"*{hashed}*"):
                client.delete(key)
        client.close()


def send(client, urls: str, address: str = REPORTER):
    return post_report(client, urls=urls, environ_base={"REMOTE_ADDR": address})


def test_refused_submissions_do_not_count(client):
    for _ in range(5):
        assert send(client, BAD_URL).status_code == 422
    assert send(client, "http://example.com/1").status_code == 303
    assert send(client, "http://example.com/2").status_code == 303
    refused = send(client, "http://example.com/3")
    assert refused.status_code == 429
    assert counts() == (2, 2)


def test_the_limit_counts_accepted_submissions_per_client(client):
    for n in range(2):
        assert send(client, f"http://example.com/{n}").status_code == 303
    assert send(client, "http://example.com/late").status_code == 429
    # Someone else behind another address is not touched by it.
    assert send(client, "http://example.com/other", NEIGHBOUR).status_code == 303


def test_a_submission_of_urls_with_open_cases_costs_nothing(client, make):
    make.case("triage", url="http://known.example.com/page")
    make.case("new", url="http://known.example.com/other")
    for _ in range(3):
        # Both are duplicates of open cases: recorded, at no cost.
        both = "http://known.example.com/page\nhttp://known.example.com/other"
        assert send(client, both).status_code == 303
    # One new URL among known ones makes new work: it counts.
    mixed = "http://known.example.com/page\nhttp://example.com/new"
    assert send(client, mixed).status_code == 303
    assert send(client, "http://example.com/second").status_code == 303
    assert send(client, "http://known.example.com/page").status_code == 429


@pytest.mark.parametrize(
    "limits",
    [{"PUBLIC_REPORT_RATE_LIMIT": "100 per minute", "PUBLIC_REPORT_FLOOD_LIMIT": "6 per minute"}],
)
def test_the_flood_ceiling_counts_every_post(client):
    for n in range(6):
        # Refused and accepted alike.
        urls = BAD_URL if n % 2 else f"http://example.com/{n}"
        assert send(client, urls).status_code in (303, 422)
    stopped = send(client, "http://example.com/flood")
    assert stopped.status_code == 429
    page = stopped.get_data(as_text=True)
    assert "Too many reports have been sent from your connection" in page
    assert "Back button" in page and 'name="urls"' not in page  # a short page
    assert counts() == (3, 3)
    assert send(client, "http://example.com/neighbour", NEIGHBOUR).status_code == 303


@pytest.mark.parametrize(
    "limits",
    [{"PUBLIC_REPORT_RATE_LIMIT": "1 per minute", "PUBLIC_REPORT_FLOOD_LIMIT": "3 per minute"}],
)
def test_past_the_flood_ceiling_the_short_page_answers_even_with_both_limits_full(client):
    answers = [send(client, f"http://example.com/{n}") for n in range(6)]
    assert [a.status_code for a in answers] == [303, 429, 429, 429, 429, 429]
    # The accepted-reports limit keeps the text in the form; past the ceiling,
    # the short page, whichever limit Flask-Limiter met first.
    assert [b'name="urls"' in a.data for a in answers[1:]] == [True, True, False, False, False]
    assert counts() == (1, 1)


def test_a_full_limit_keeps_what_was_typed_and_stores_nothing(client):
    for n in range(2):
        send(client, f"http://example.com/{n}")
    response = post_report(
        client,
        urls="http://example.com/kept",
        description="still here",
        environ_base={"REMOTE_ADDR": REPORTER},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "http://example.com/kept" in page and "still here" in page
    assert counts() == (2, 2)


def test_the_defaults_leave_room_for_a_shared_address(app):
    """A class of 40 sharing one address, each sending a report and making typos,
    fits the defaults within an hour; a flood of 10,000 a minute does not."""
    from limits import parse_many

    accepted = {item.get_expiry(): item.amount for item in parse_many(config_default("RATE"))}
    every = {item.get_expiry(): item.amount for item in parse_many(config_default("FLOOD"))}
    assert accepted[3600] >= 40 * 2 and accepted[60] >= 10
    assert every[3600] >= 40 * 5 and every[60] >= 2 * accepted[60]
    assert every[60] < 10_000 / 10


def config_default(which: str) -> str:
    from config import Config

    return Config.PUBLIC_REPORT_RATE_LIMIT if which == "RATE" else Config.PUBLIC_REPORT_FLOOD_LIMIT

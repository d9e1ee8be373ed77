"""The public form's rate limit with its counters in a real Redis.

Redis is there so that several app processes (gunicorn's workers, servers
behind one proxy) count each client together: the second instance here is
another Python process, because in one process every app shares the module's
one ``limiter`` and would share its counters whatever the storage. What Redis
holds is the salted hash of the client, never its address (docs/privacy.md).

The Redis is ``TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0); the tests
skip when it cannot be reached. Each run writes under a key prefix of its own
and deletes what it wrote.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from casemgr.privacy import client_key
from tests.public.helpers import counts, post_report

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
# One prefix for the whole run: Flask-Limiter keeps the first key prefix it is
# given for the life of the process, so a prefix per test would not take.
KEY_PREFIX = f"casemgr-test-{secrets.token_hex(6)}"
REPORTER = "203.0.113.77"
REPORTER_V6 = "2001:db8:1:2::1"

# Another app process on the same Redis: reads its settings on standard input,
# posts the form COUNT times as ADDRESS and prints the answers' status codes.
_OTHER_PROCESS = """
import json, sys
from casemgr import create_app

config, count, address = json.load(sys.stdin), int(sys.argv[1]), sys.argv[2]
client = create_app(config).test_client()
statuses = [
    client.post(
        "/report",
        data={"urls": f"http://other-process.example.com/{n}"},
        environ_base={"REMOTE_ADDR": address},
    ).status_code
    for n in range(count)
]
print(json.dumps(statuses))
"""


@pytest.fixture(scope="module")
def redis_client():
    """A client of the test Redis; the module skips when there is none."""
    redis = pytest.importorskip("redis", reason="the redis package is not installed")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (set TEST_REDIS_URL): {exc}")
    yield client
    client.close()


@pytest.fixture
def app_config(redis_client) -> Iterator[dict]:
    """Counters in Redis under this run's prefix, hashed with a salt of this test's
    own (shared with the other process, as gunicorn shares one between workers)."""
    yield {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": KEY_PREFIX,
        "RATELIMIT_KEY_SALT": secrets.token_hex(16),
        "PUBLIC_REPORT_RATE_LIMIT": "3 per hour",
    }
    for key in redis_client.scan_iter(match=f"*{KEY_PREFIX}*"):
        redis_client.delete(key)


def stored_keys(redis_client) -> list[str]:
    return sorted(key.decode() for key in redis_client.scan_iter(match=f"*{KEY_PREFIX}*"))


def key_of(app, address: str) -> str:
    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        return client_key()


# What the other process shares with this one: the database, the Redis, the salt.
SHARED_SETTINGS = (
    "SQLALCHEMY_DATABASE_URI",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_KEY_PREFIX",
    "RATELIMIT_KEY_SALT",
    "PUBLIC_REPORT_RATE_LIMIT",
    "PUBLIC_REPORT_FLOOD_LIMIT",
)


def post_from_another_process(app, count: int, address: str) -> list[int]:
    config = {"TESTING": True, **{name: app.config[name] for name in SHARED_SETTINGS}}
    finished = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _OTHER_PROCESS, str(count), address],
        input=json.dumps(config),  # not in the arguments: the database URL may hold a password
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.splitlines()[-1])


def test_two_app_processes_sharing_redis_count_a_client_together(app, client):
    for n in range(2):
        mine = post_report(
            client, urls=f"http://example.com/{n}", environ_base={"REMOTE_ADDR": REPORTER}
        )
        assert mine.status_code == 303
    # The other process alone has seen the client once: only the shared
    # counter makes its second answer a refusal.
    assert post_from_another_process(app, 2, REPORTER) == [303, 429]
    refused = post_report(
        client, urls="http://example.com/late", environ_base={"REMOTE_ADDR": REPORTER}
    )
    assert refused.status_code == 429
    assert counts() == (3, 3)
    # Another client is counted on its own.
    assert post_from_another_process(app, 1, "198.51.100.9") == [303]


def test_redis_holds_the_salted_hash_never_the_address(app, client, redis_client):
    for address in (REPORTER, REPORTER_V6):
        response = post_report(
            client, urls=f"http://example.com/{address}", environ_base={"REMOTE_ADDR": address}
        )
        assert response.status_code == 303
    keys = stored_keys(redis_client)
    hashes = {key_of(app, REPORTER), key_of(app, REPORTER_V6)}
    # Per client, named by its hash: accepted submissions (one window) and every
    # POST (the flood ceiling's two windows).
    assert len(keys) == 6
    assert sorted(next(h for h in hashes if h in key) for key in keys) == sorted(list(hashes) * 3)
    stored = " ".join(keys + [str(redis_client.get(key)) for key in keys])
    for trace in (REPORTER, "203.0.113", "2001:db8:1:2", "2001:db8:1:2::/64"):
        assert trace not in stored
    # The counters go with their window.
    assert all(0 < redis_client.ttl(key) <= 3600 for key in keys)

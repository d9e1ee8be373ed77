"""gunicorn.conf.py with the real gunicorn: rate limits hold across its workers.

memory:// counts in each worker, so a start with more than one is refused
(casemgr/ratelimits.py); with Redis, two workers together accept no more
reports from one client than the limit. The Redis test uses TEST_REDIS_URL
(default redis://127.0.0.1:6379/0), under a key prefix of its own, and skips
without one.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.gunicorn_server import free_port, production_env, serving, start

REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
# As nginx says it (gunicorn.conf.py trusts 127.0.0.1): the app is behind TLS,
# so its Secure __Host- cookie is set; the test sends it back by hand.
HTTPS = {"X-Forwarded-Proto": "https"}
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def refused_start(tmp_path, env: dict[str, str], *args: str, **kwargs) -> tuple[int, str]:
    """gunicorn's exit status and error log, for a start expected to fail."""
    error_log = tmp_path / "error.log"
    server = start(
        env,
        "--bind",
        f"127.0.0.1:{free_port()}",
        "--error-logfile",
        str(error_log),
        *args,
        **kwargs,
    )
    try:
        status = server.wait(timeout=15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return status, error_log.read_text()


def test_two_workers_counting_in_memory_are_refused(tmp_path, database_urls):
    # The environment says one worker; the command line's -w wins, and is checked.
    env = production_env(database_urls["sqlite"], GUNICORN_WORKERS="1")
    status, log = refused_start(tmp_path, env, "--workers", "2")
    assert status != 0
    assert "casemgr refuses to start" in log
    assert "RATELIMIT_STORAGE_URI (CASEMGR_RATELIMIT_STORAGE_URI) is memory://" in log
    assert "2 workers" in log and "redis://" in log and "casemgr[redis]" in log
    assert "Booting worker" not in log  # refused before any worker was forked


def test_a_worker_asked_for_later_is_turned_down(tmp_path, database_urls):
    """TTIN asks a running server for one more worker: with memory:// it keeps one."""
    error_log = tmp_path / "error.log"
    env = production_env(database_urls["sqlite"])
    with serving(env, "--workers", "1", "--error-logfile", str(error_log)) as base:
        master = int(re.search(r"Listening at: \S+ \((\d+)\)", error_log.read_text())[1])
        os.kill(master, signal.SIGTTIN)
        deadline = time.monotonic() + 10
        while "casemgr keeps" not in error_log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a worker it had wrongly forked would be booting by now
        urllib.request.urlopen(base + "/healthz", timeout=5).close()  # noqa: S310
    log = error_log.read_text()
    assert "casemgr keeps 1 worker(s): RATELIMIT_STORAGE_URI" in log and "2 workers" in log
    assert log.count("Booting worker") == 1


def test_gunicorn_without_the_shipped_config_is_refused_in_production(tmp_path, database_urls):
    """Another config file (or none, from another directory): the worker count
    is unknown to casemgr, so per-process counting is refused by the app."""
    other_config = tmp_path / "other.conf.py"
    other_config.write_text("")
    env = production_env(database_urls["sqlite"])
    status, log = refused_start(tmp_path, env, "--workers", "2", config=other_config)
    assert status != 0
    assert "without casemgr's gunicorn.conf.py" in log
    assert "gunicorn -c gunicorn.conf.py wsgi:app" in log


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the test Redis, deleted after; skips without Redis."""
    redis = pytest.importorskip("redis", reason="the redis package is not installed")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (set TEST_REDIS_URL): {exc}")
    prefix = f"casemgr-test-{secrets.token_hex(6)}"
    yield prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


def submissions(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text("SELECT count(*) FROM submissions"))
    finally:
        engine.dispose()


class Reporter:
    """One client of the public form: its session cookie and the form's token."""

    def __init__(self, base: str):
        self.address = urllib.parse.urlsplit(base).netloc
        _, headers, page = self._request("GET", "/report")
        self.cookie = headers["Set-Cookie"].split(";", 1)[0]
        self.token = _TOKEN.search(page.decode()).group(1)

    def post(self, n: int) -> int:
        body = urllib.parse.urlencode(
            {"csrf_token": self.token, "urls": f"http://example.com/limit/{n}"}
        )
        headers = {"Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"}
        status, _, _ = self._request("POST", "/report", body, headers)
        return status

    def _request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection(self.address, timeout=10)
        try:
            connection.request(method, path, body=body, headers={**HTTPS, **(headers or {})})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()


@pytest.mark.redis
def test_two_workers_sharing_redis_accept_no_more_than_the_limit(
    tmp_path, database_urls, redis_prefix
):
    database = database_urls["sqlite"]
    env = production_env(
        database,
        CASEMGR_RATELIMIT_STORAGE_URI=REDIS_URL,
        CASEMGR_RATELIMIT_KEY_PREFIX=redis_prefix,
    )
    limit = 20  # PUBLIC_REPORT_RATE_LIMIT in production: "20 per minute;200 per hour"
    sent = 41
    access_log = tmp_path / "access.log"
    before = submissions(database)
    with serving(
        env,
        "--workers",
        "2",
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        '%(p)s "%(r)s" %(s)s',
    ) as base:
        reporter = Reporter(base)
        with ThreadPoolExecutor(max_workers=4) as pool:
            wait_for_workers(pool, base, access_log, 2)
            # A few at a time, so that both workers are kept busy.
            statuses = list(pool.map(reporter.post, range(sent)))
    # Accepted reports are checked before the view and counted after it
    # (casemgr/public/limits.py): a request that one worker is serving when
    # the other takes the last place may pass too, so one over, never more.
    accepted = statuses.count(303)
    assert limit <= accepted <= limit + 1, statuses
    assert statuses.count(429) == sent - accepted, statuses
    assert submissions(database) - before == accepted
    posts = [line for line in access_log.read_text().splitlines() if "POST /report" in line]
    assert len(posts) == sent and len(answered_by(posts)) == 2, posts  # both workers answered


def answered_by(lines: list[str]) -> set[str]:
    """The workers' process ids in access-log lines of the format '%(p)s ...'."""
    return {line.split()[0] for line in lines}


def wait_for_workers(pool, base: str, access_log, count: int, timeout: float = 15) -> None:
    """Until ``count`` workers have answered (the first answers while others may
    still be loading the app), asking a few things at a time."""
    deadline = time.monotonic() + timeout

    def ask(_):
        urllib.request.urlopen(base + "/healthz", timeout=5).close()  # noqa: S310

    while len(answered_by(access_log.read_text().splitlines())) < count:
        assert time.monotonic() < deadline, f"fewer than {count} workers answered"
        list(pool.map(ask, range(4)))

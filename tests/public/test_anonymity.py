"""A report leaves no IP address and no user agent anywhere: not in the
database, not in the app's logs, not in the servers' access logs; and the
public pages set no cookie beyond the form's CSRF token."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from casemgr.extensions import db
from casemgr.gunicorn_logging import anonymise_atoms
from casemgr.privacy import AnonymousRequestLogFilter, logs_client_address
from tests.public.helpers import counts, csrf_token, post_report

ROOT = Path(__file__).resolve().parents[2]
CLIENT_IP = "203.0.113.77"
PROXY_IP = "198.51.100.23"
FORWARDED_IP = "192.0.2.146"
AGENT = "Mozilla/5.0 (CanaryPhone 9; rv:77) UniqueAgent/4242"
CANARIES = (CLIENT_IP, PROXY_IP, FORWARDED_IP, "UniqueAgent", "CanaryPhone")


@pytest.fixture
def app_config():
    # Behind one proxy: the app sees FORWARDED_IP as the client, as in production.
    return {"WTF_CSRF_ENABLED": True, "TRUSTED_PROXY_COUNT": 1}


@pytest.fixture
def every_logger(monkeypatch, caplog):
    """Capture every record of every logger at every level.

    Running the migrations in-process (the test session does, through
    alembic's fileConfig) disables the loggers that existed then, werkzeug's
    among them: switch them all back on so that nothing escapes the check.
    """
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="werkzeug")
    return caplog


def dump_database() -> str:
    """Every value of every column of every table, as text (binary read as latin-1)."""
    reflected = sa.MetaData()
    reflected.reflect(bind=db.engine)  # every table there is, alembic's included
    parts = []
    with db.engine.connect() as connection:
        for table in reflected.sorted_tables:
            for row in connection.execute(sa.select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def test_a_submission_leaves_no_ip_or_user_agent_in_the_database_or_logs(client, every_logger):
    caplog = every_logger
    headers = {
        "User-Agent": AGENT,
        "X-Forwarded-For": FORWARDED_IP,
        "Referer": f"http://{CLIENT_IP}/from",
        "Accept-Language": "km",
    }
    environ = {"REMOTE_ADDR": PROXY_IP}
    client.get("/", headers=headers, environ_base=environ)
    response = post_report(
        client,
        headers=headers,
        environ_base=environ,
        urls="http://example.com/a\nhttp://example.com/a\nnot a url",
    )
    assert response.status_code == 422  # a refusal leaves nothing either
    response = client.post(
        "/report",
        headers=headers,
        environ_base=environ,
        data={
            "csrf_token": csrf_token(client),
            "urls": "http://example.com/a\nhttps://example.org/b",
            "description": "seen in a forum",
            "contact": "someone@example.net",
            "feedback_requested": "y",
        },
    )
    assert response.status_code == 303
    client.get(response.headers["Location"], headers=headers, environ_base=environ)
    assert counts() == (1, 2)

    everything = dump_database()
    assert "example.org/b" in everything  # the dump does see the report
    for canary in CANARIES:
        assert canary not in everything, canary
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records
    )
    assert "public report" in logged  # the logs were captured
    for canary in CANARIES:
        assert canary not in logged, canary


def cookies_set(response) -> list[str]:
    return [value.split("=", 1)[0] for value in response.headers.getlist("Set-Cookie")]


def test_public_pages_set_no_cookie_but_the_csrf_session(app, client):
    assert cookies_set(client.get("/")) == []
    assert cookies_set(client.get("/?lang=km")) == []
    name = app.config["SESSION_COOKIE_NAME"]
    form = client.get("/report")
    assert cookies_set(form) == [name]
    session_cookie = client.get_cookie(name)
    assert session_cookie.http_only and session_cookie.expires is None  # ends with the browser
    serializer = app.session_interface.get_signing_serializer(app)
    assert set(serializer.loads(session_cookie.value)) == {"csrf_token"}

    response = post_report(client, urls="http://example.com/a")
    thanks = client.get(response.headers["Location"])
    assert cookies_set(response) == [] and cookies_set(thanks) == []
    assert set(serializer.loads(client.get_cookie(name).value)) == {"csrf_token"}
    assert cookies_set(client.get("/report/thanks?t=expired")) == []
    assert cookies_set(client.get("/no-such-page")) == []


def test_staff_paths_are_the_only_ones_that_keep_addresses():
    for path in ("/login", "/cases", "/cases/1", "/admin/users", "/api/v1/reports"):
        assert logs_client_address(path), path
    for path in ("/", "/report", "/report/thanks", "/static/css/app.css", "/casesx", "/x"):
        assert not logs_client_address(path), path


def test_the_gunicorn_logger_blanks_the_client_on_public_paths():
    environ = {
        "PATH_INFO": "/report/thanks",
        "QUERY_STRING": "t=secret-receipt",
        "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": CLIENT_IP,
    }
    atoms = {
        "h": CLIENT_IP,
        "a": AGENT,
        "f": "http://elsewhere.example/",
        "u": "-",
        "q": "t=secret-receipt",
        "r": "GET /report/thanks?t=secret-receipt HTTP/1.1",
        "s": "200",
        "{user-agent}i": AGENT,
        "{x-forwarded-for}i": FORWARDED_IP,
        "{remote_addr}e": CLIENT_IP,
        "{set-cookie}o": "session=abc",
    }
    clean = anonymise_atoms(dict(atoms), environ)
    shown = repr(clean)
    for secret in (CLIENT_IP, FORWARDED_IP, "UniqueAgent", "secret-receipt", "elsewhere"):
        assert secret not in shown
    assert clean["r"] == "GET /report/thanks HTTP/1.1" and clean["s"] == "200"
    staff = anonymise_atoms(dict(atoms), {**environ, "PATH_INFO": "/cases/1"})
    assert staff["h"] == CLIENT_IP


def test_the_development_server_logs_no_address(app, every_logger):
    """werkzeug's own request log (flask run) passes through the filter."""
    caplog = every_logger
    assert any(
        isinstance(f, AnonymousRequestLogFilter) for f in logging.getLogger("werkzeug").filters
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        for path in ("/", "/report?lang=km", "/report/thanks?t=secret-receipt"):
            request = urllib.request.Request(base + path, headers={"User-Agent": AGENT})  # noqa: S310
            try:
                urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
            except urllib.error.HTTPError as exc:
                exc.close()
        deadline = time.monotonic() + 5  # the server logs just after answering
        while time.monotonic() < deadline and len(_werkzeug_lines(caplog)) < 3:
            time.sleep(0.02)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    lines = _werkzeug_lines(caplog)
    assert any("/report/thanks" in line for line in lines), lines
    for line in lines:
        assert "127.0.0.1" not in line and "secret-receipt" not in line and "lang=km" not in line


def test_gunicorn_with_the_shipped_config_logs_no_reporter(tmp_path):
    """The real thing: gunicorn.conf.py, a report, the access log read back."""
    from flask_migrate import upgrade

    from casemgr import create_app

    database = f"sqlite:///{tmp_path / 'casemgr.db'}"
    migrate_app = create_app({"SQLALCHEMY_DATABASE_URI": database})
    with migrate_app.app_context():
        upgrade()
        db.engine.dispose()
    access_log = tmp_path / "access.log"
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "CASEMGR_ENV": "development",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            str(access_log),
            "--error-logfile",
            str(tmp_path / "error.log"),
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        opener.addheaders = [("User-Agent", AGENT), ("X-Forwarded-For", FORWARDED_IP)]
        page = _get_when_up(opener, base + "/report")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "urls": "http://example.com/g"})
        with opener.open(base + "/report", data=body.encode(), timeout=10) as response:
            assert "/report/thanks" in response.url  # followed the redirect
        with opener.open(base + "/login", timeout=10):
            pass
    finally:
        server.terminate()
        server.wait(timeout=15)
    log = access_log.read_text()
    public = [line for line in log.splitlines() if "/login" not in line]
    staff = [line for line in log.splitlines() if "/login" in line]
    assert len(public) >= 3 and staff, log
    assert any('"POST /report HTTP/1.1" 303' in line for line in public), log
    for line in public:
        for secret in ("127.0.0.1", FORWARDED_IP, "UniqueAgent", "t=gAAAA"):
            assert secret not in line, line
    assert "127.0.0.1" in staff[0]  # staff lines keep the address: the logger is selective


def _werkzeug_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "werkzeug"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_when_up(opener, url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with opener.open(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_following_a_report_leaves_no_ip_user_agent_or_code_in_clear(client, every_logger):
    """/status and additions (issue 15): as the form, plus the receipt code itself."""
    from casemgr.reporter.codes import normalise, split
    from tests.reporter.helpers import access_of

    caplog = every_logger
    headers = {"User-Agent": AGENT, "X-Forwarded-For": FORWARDED_IP, "Accept-Language": "km"}
    environ = {"REMOTE_ADDR": PROXY_IP}

    def post(path, **fields):
        token = csrf_token(client, "/status")
        data = {"csrf_token": token, **fields}
        return client.post(path, headers=headers, environ_base=environ, data=data)

    response = post("/report", urls="http://example.com/a", contact="someone@example.net")
    thanks = client.get(response.headers["Location"], headers=headers, environ_base=environ)
    code = re.search(r'id="receipt-code">([0-9A-Z-]+)<', thanks.get_data(as_text=True)).group(1)
    assert post("/status", code=code[:-1] + "0").status_code in (200, 404)
    status = post("/status", code=code.lower().replace("-", " "))
    assert status.status_code == 200
    added = post(
        "/status/add",
        access=access_of(status),
        urls="http://example.com/added",
        message="a secret message canary",
    )
    assert added.status_code == 200
    assert counts() == (1, 2)

    plain = normalise(code)
    secrets_in_clear = (code, plain, split(plain)[1], "secret message canary")
    everything = dump_database()
    assert "example.com/added" in everything
    for canary in (*CANARIES, *secrets_in_clear):
        assert canary not in everything, canary
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records
    )
    assert "public report addition" in logged
    for canary in (*CANARIES, *secrets_in_clear, code.lower()):
        assert canary not in logged, canary

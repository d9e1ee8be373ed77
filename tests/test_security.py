"""What every response carries (headers), what the app logs, /healthz, error
pages, and bad input the app itself controls."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from casemgr.extensions import db
from casemgr.security import REQUEST_LOGGER
from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def assert_hardened(response, csp=CSP, referrer="same-origin"):
    headers = response.headers
    assert headers["Content-Security-Policy"] == csp
    assert headers["Referrer-Policy"] == referrer
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # production only


@pytest.mark.parametrize(
    ("path", "referrer"),
    [
        ("/login", "same-origin"),
        ("/cases/", "same-origin"),
        ("/healthz", "no-referrer"),
        ("/api/v1/openapi.json", "same-origin"),
        ("/api/v1/cases", "same-origin"),
        ("/static/css/app.css", "no-referrer"),
        ("/nowhere", "same-origin"),
    ],
)
def test_every_response_carries_the_headers(client, path, referrer):
    response = client.get(path)
    assert_hardened(response, referrer=referrer)
    response.close()


@pytest.mark.parametrize("path", ["/", "/report", "/report/thanks?t=x"])
def test_public_pages_carry_a_stricter_policy_still(client, path):
    """The public pages load nothing but our styles, fonts and images."""
    from casemgr.public.views import PUBLIC_HEADERS

    response = client.get(path)
    assert_hardened(response, csp=PUBLIC_HEADERS["Content-Security-Policy"], referrer="no-referrer")
    assert '<meta name="referrer" content="no-referrer">' in response.get_data(as_text=True)
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_signed_in_pages_and_errors_carry_them_too(client, analyst, make):
    login(client, analyst)
    case = make.case("new")
    for response in (
        client.get(f"/cases/{case.id}"),
        client.get("/admin/users"),  # 403
        client.post(f"/cases/{case.id}/actions/nothing"),  # 404
        client.get("/logout"),  # 405
    ):
        assert_hardened(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_hsts_only_in_production(monkeypatch, tmp_path):
    from casemgr import create_app
    from casemgr.crypto import ContactCipher

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "a-long-random-value-for-this-test")
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_KEY", ContactCipher.generate_key())
    monkeypatch.setenv("CASEMGR_AUDIT_KEY", "a-long-random-audit-key-for-this-test")
    app = create_app("production")
    response = app.test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000"


def test_production_refuses_debug(monkeypatch, tmp_path):
    from casemgr import create_app
    from casemgr.crypto import ContactCipher

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("CASEMGR_SECRET_KEY", "a-long-random-value-for-this-test")
    monkeypatch.setenv("CASEMGR_CONTACT_ENCRYPTION_KEY", ContactCipher.generate_key())
    monkeypatch.setenv("CASEMGR_AUDIT_KEY", "a-long-random-audit-key-for-this-test")
    monkeypatch.setenv("CASEMGR_DEBUG", "true")
    with pytest.raises(RuntimeError, match="DEBUG"):
        create_app("production")


TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_has_inline_script_or_style(template):
    """The CSP forbids them: they would silently not work. A script file of our
    own (or Swagger UI's, served from here), loaded by its address with nothing
    inside the tag, is allowed."""
    text = template.read_text(encoding="utf-8")
    text = re.sub(
        r'<script src="\{\{ url_for\(\'(static|apidocs\.swagger_ui_file)\', [^"]*\}\}" '
        r"defer></script>",
        "",
        text,
    )
    assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=|javascript:", text, re.I), template


def test_an_unexpected_error_shows_no_stack_trace(app, client, analyst, monkeypatch):
    from casemgr.cases import queries

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals /work/casemgr/cases/services.py line 42")

    monkeypatch.setattr(queries, "queue", broken)
    login(client, analyst)
    response = client.get("/cases/")
    assert response.status_code == 500
    assert b"secret internals" not in response.data and b"Traceback" not in response.data
    assert_hardened(response)


class TestHealth:
    def test_ok_when_the_database_answers(self, client):
        # Monitors read "status"; the job table beside it never changes it.
        response = client.get("/healthz")
        assert response.status_code == 200 and response.json["status"] == "ok"
        assert "jobs" in response.json

    def test_503_when_it_does_not(self, client, monkeypatch):
        def down(*args, **kwargs):
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

        monkeypatch.setattr(db.session, "execute", down)
        response = client.get("/healthz")
        assert response.status_code == 503 and response.json["status"] == "unavailable"

    def test_needs_no_sign_in_and_sets_no_cookie(self, client):
        response = client.get("/healthz")
        assert "Set-Cookie" not in response.headers


class TestRequestLog:
    @pytest.fixture
    def lines(self):
        logger = logging.getLogger(REQUEST_LOGGER)
        records: list[logging.LogRecord] = []
        handler = logging.Handler()
        handler.emit = records.append
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        yield lambda: [json.loads(record.getMessage()) for record in records]
        logger.removeHandler(handler)
        logger.setLevel(level)

    def test_one_json_line_per_request_with_the_route_template(self, client, analyst, make, lines):
        case = make.case("new")
        client.environ_base.update(
            REMOTE_ADDR="198.51.100.7",
            HTTP_USER_AGENT="Agent/1.0",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
        login(client, analyst)
        client.get(f"/cases/{case.id}?q=http://secret.example.com/x")
        line = lines()[-1]
        assert line["method"] == "GET" and line["path"] == "/cases/<int:case_id>"
        assert line["status"] == 200 and isinstance(line["duration_ms"], float)
        assert line["user_id"] == analyst.id
        text = json.dumps(lines())
        for secret in ("198.51.100.7", "203.0.113.9", "Agent/1.0", "secret.example.com"):
            assert secret not in text

    def test_public_pages_log_nothing_identifying(self, client, analyst, lines):
        login(client, analyst)
        client.get("/")
        client.get("/healthz")
        for line in lines()[-2:]:
            assert set(line) == {"event", "method", "path", "endpoint", "status", "duration_ms"}

    def test_api_calls_log_the_tokens_user(self, client, analyst, lines):
        from casemgr import context
        from casemgr.auth.tokens import issue_token

        token = issue_token(db.session, analyst, now=context.now())
        db.session.commit()
        client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert lines()[-1]["user_id"] == analyst.id
        assert token not in json.dumps(lines())


class TestBadInput:
    @pytest.mark.parametrize(
        "path",
        [
            "/static/../config.py",
            "/static/%2e%2e/config.py",
            "/static/..%2fconfig.py",
            "/static/css/..%2f..%2fconfig.py",
            "/static/%2e%2e%2f%2e%2e%2fetc/passwd",
            "/static//etc/passwd",
            "/static/css/app.css%00.txt",
        ],
    )
    def test_path_traversal_in_a_file_name_is_refused(self, client, path):
        response = client.get(path, follow_redirects=True)  # "//" is merged (308) first
        response.close()
        assert response.status_code in (400, 404)
        assert b"SECRET_KEY" not in response.data and b"root:" not in response.data

    def test_a_forged_csrf_token_is_refused_and_audited(self, app, client, analyst, make):
        from sqlalchemy import select

        from casemgr.audit.models import AuditEntry

        login(client, analyst)
        case = make.case("new")
        app.config["WTF_CSRF_ENABLED"] = True
        try:
            response = client.post(
                f"/cases/{case.id}/actions/assign", data={"csrf_token": "forged"}
            )
        finally:
            app.config["WTF_CSRF_ENABLED"] = False
        assert response.status_code == 400
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "security.csrf_refused")
        )
        assert entry.actor_id == analyst.id
        assert db.session.get(type(case), case.id).status == "new"

    def test_a_huge_header_is_not_a_500(self, client, analyst):
        response = client.get("/cases/", headers={"X-Junk": "x" * 100_000})
        assert response.status_code < 500

    @pytest.mark.parametrize("value", ["1 OR 1=1", "../../etc/passwd", "\x00", "9" * 40, "-1"])
    def test_a_bad_form_version_is_not_a_500(self, client, analyst, make, value):
        login(client, analyst)
        case = make.case("new")
        response = client.post(f"/cases/{case.id}/actions/assign", data={"assign-version": value})
        assert response.status_code < 500


# "²" is a digit to str.isdigit() but not a number to int(): every number read
# from a query string is checked with isdecimal(), so such text is ignored.
@pytest.mark.parametrize(
    "path",
    [
        "/cases/?page=%C2%B2",
        "/cases/?per_page=%C2%B2",
        "/directory/?page=%C2%B2",
        "/notices/?page=%C2%B2",
        "/notices/?recipient=%C2%B2",
        "/admin/audit/?actor=%C2%B2",
    ],
)
def test_numbers_in_query_strings_that_int_cannot_read_are_ignored(client, admin, path):
    assert login(client, admin).get(path).status_code == 200

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.auth import accounts, twofactor
from casemgr.auth.models import User
from casemgr.cases.models import Case
from casemgr.cases.states import Status
from casemgr.demo import DEMO_PASSWORD
from casemgr.extensions import db
from casemgr.notices.models import Notice, NoticeCase

ROOT = Path(__file__).resolve().parent.parent


def test_demo_fills_every_state_once_and_never_twice(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "analyst@example.org" in first.output and "password for all" in first.output
    assert "Times are shown in UTC, as HOTLINE_TIMEZONE says" in first.output
    states = set(db.session.scalars(select(Case.status).distinct()).all())
    assert states == {status.value for status in Status}
    count = db.session.scalar(select(func.count()).select_from(Case))
    assert count >= 40
    # Every notice went out as the notice run sends it: a stored letter per case.
    notified = db.session.scalars(select(Case).where(Case.notice_sent_at.is_not(None))).all()
    assert notified
    covered = set(db.session.scalars(select(NoticeCase.case_id)).all())
    assert {case.id for case in notified} <= covered
    letters = db.session.scalars(select(Notice).where(Notice.kind == "notice")).all()
    assert letters and all(letter.pdf.startswith(b"%PDF") for letter in letters)
    hosts = db.session.scalars(select(Case.host).distinct()).all()
    assert all(host.endswith(("example.com", "example.net", "example.org")) for host in hosts)

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "no demo data added" in second.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == count


def test_demo_refuses_the_production_configuration(app, runner):
    """Its accounts share a published password: never in production."""
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "refuses to run under the production configuration" in result.output
    assert "CASEMGR_ENV=production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_demo_supervisor_signs_in_with_the_code_demo_codes_prints(app, runner):
    """No enrolment page on the tour: the accounts that need a second factor
    have one, its secret printed, and `demo codes` prints the code of now."""
    loaded = runner.invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    secrets = dict(
        re.findall(r"(\S+@example\.org)\s+second factor: TOTP secret ([A-Z2-7]+)", loaded.output)
    )
    assert set(secrets) == {"supervisor@example.org", "admin@example.org"}
    assert ".venv/bin/flask --app wsgi demo codes" in loaded.output

    printed = runner.invoke(args=["demo", "codes"])
    assert printed.exit_code == 0, printed.output
    found = re.findall(r"(\S+@example\.org)\s+(\d{6})\s+\(secret ([A-Z2-7]+)\)", printed.output)
    assert {email: secret for email, _code, secret in found} == secrets
    codes = {email: code for email, code, _secret in found}
    now = context.now()
    assert codes["supervisor@example.org"] == twofactor.current_code(
        secrets["supervisor@example.org"], now
    )

    client = app.test_client()
    response = client.post(
        "/login", data={"email": "supervisor@example.org", "password": DEMO_PASSWORD}
    )
    assert response.location.startswith("/login/code")
    response = client.post("/login/code", data={"code": codes["supervisor@example.org"]})
    assert response.status_code == 302 and not response.location.startswith("/login")
    assert client.get("/stats/").status_code == 200


def test_demo_codes_shows_no_account_whose_password_changed(runner):
    runner.invoke(args=["demo"])
    admin = accounts.find_by_email(db.session, "admin@example.org")
    admin.set_password("a-password-nobody-published")
    db.session.commit()
    printed = runner.invoke(args=["demo", "codes"])
    assert "supervisor@example.org" in printed.output
    assert "admin@example.org" not in printed.output


def test_demo_codes_refuses_the_production_configuration(app, runner):
    runner.invoke(args=["demo"])
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["demo", "codes"])
    assert result.exit_code == 1
    assert "refuses to run under the production configuration" in result.output
    assert not re.search(r"\d{6}", result.output)


def test_demo_codes_without_the_demo_says_so(runner):
    result = runner.invoke(args=["demo", "codes"])
    assert result.exit_code == 1
    assert "load the demo first" in result.output


@pytest.mark.slow
def test_the_commands_as_a_newcomer_types_them(tmp_path):
    """`flask --app wsgi demo` and `demo codes` in a shell, outside any app
    context a test sets up."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "CASEMGR_ENV": "development",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for args in (["db", "upgrade"], ["demo"], ["demo", "codes"]):
        done = subprocess.run(
            [*flask, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    assert re.search(r"supervisor@example\.org\s+\d{6}", done.stdout), done.stdout

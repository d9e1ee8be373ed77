"""Sign-in throttling: a lock per e-mail address after repeated failures, in the
database, and answers that never tell whether an account exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth import signin
from casemgr.auth.models import LoginThrottle
from casemgr.extensions import db
from tests.factories import PASSWORD, totp_code

WRONG = "not the password at all"


def attempt(client, email, password=WRONG):
    return client.post("/login", data={"email": email, "password": password})


def fail(client, email, times=5):
    return [attempt(client, email).status_code for _ in range(times)]


def test_five_failures_lock_the_account_for_fifteen_minutes(app, client, clock, analyst):
    assert fail(client, analyst.email) == [401, 401, 401, 401, 429]
    response = attempt(client, analyst.email, PASSWORD)
    assert response.status_code == 429
    assert b"paused for 15 minutes" in response.data
    clock.advance(minutes=14)
    assert attempt(client, analyst.email, PASSWORD).status_code == 429
    clock.advance(minutes=1, seconds=1)
    assert attempt(client, analyst.email, PASSWORD).status_code == 302


def test_the_lock_holds_for_every_client_and_process(app, clock, analyst):
    fail(app.test_client(), analyst.email)
    # Another client (another worker would see the same row in the database).
    assert attempt(app.test_client(), analyst.email, PASSWORD).status_code == 429
    assert db.session.scalar(select(LoginThrottle)).locked_until == clock.now() + timedelta(
        minutes=15
    )


def test_unknown_addresses_get_the_same_answers(client, analyst):
    known = [attempt(client, analyst.email) for _ in range(5)]
    unknown = [attempt(client, "nobody@staff.example.org") for _ in range(5)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown]

    def message(response):
        text = response.get_data(as_text=True)
        return text.replace(analyst.email, "X").replace("nobody@staff.example.org", "X")

    assert [message(r) for r in known] == [message(r) for r in unknown]


def test_unknown_addresses_cost_a_password_hash_too(app, monkeypatch):
    checked = []
    real = signin.check_password_hash
    monkeypatch.setattr(
        signin, "check_password_hash", lambda *args: checked.append(1) or real(*args)
    )
    signin.authenticate(
        db.session,
        "nobody@example.org",
        WRONG,
        now=app.extensions["casemgr.clock"].now(),
        policy=app.extensions["casemgr.login_policy"],
    )
    assert checked == [1]


def test_failures_spread_over_time_do_not_lock(client, clock, analyst):
    for _ in range(3):
        fail(client, analyst.email, times=2)
        clock.advance(minutes=16)
    assert attempt(client, analyst.email, PASSWORD).status_code == 302


def test_a_success_clears_the_count(client, analyst):
    fail(client, analyst.email, times=4)
    assert attempt(client, analyst.email, PASSWORD).status_code == 302
    client.post("/logout")
    assert fail(client, analyst.email, times=4) == [401] * 4


def test_lockouts_and_failures_are_audited(client, analyst):
    fail(client, analyst.email, times=6)
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("auth.login_failed") == 5
    assert actions.count("auth.lockout") == 1
    assert actions.count("auth.login_refused_locked") == 1
    lockout = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.lockout"))
    assert lockout.actor_id == analyst.id and lockout.details["email"] == analyst.email


def test_wrong_codes_count_towards_the_lock(app, client, supervisor):
    for _ in range(4):
        fail(client, supervisor.email, times=1)
    client.post("/login", data={"email": supervisor.email, "password": PASSWORD})
    response = client.post("/login/code", data={"code": "000000"})
    assert response.status_code == 429
    # Locked: even the right password and code are refused now.
    client.post("/login", data={"email": supervisor.email, "password": PASSWORD})
    assert client.get("/cases/").status_code == 302
    other = app.test_client()
    assert attempt(other, supervisor.email, PASSWORD).status_code == 429


def test_a_locked_address_is_refused_at_the_code_step_too(app, client, supervisor):
    client.post("/login", data={"email": supervisor.email, "password": PASSWORD})
    fail(app.test_client(), supervisor.email)  # someone else locks it meanwhile
    response = client.post("/login/code", data={"code": totp_code(supervisor)})
    assert response.status_code == 429
    assert client.get("/cases/").status_code == 302


@pytest.fixture
def app_config():
    return {"LOGIN_MAX_FAILURES": 5, "LOGIN_LOCKOUT_MINUTES": 15}


def test_case_of_the_address_does_not_matter(client, analyst):
    fail(client, analyst.email.upper())
    assert attempt(client, analyst.email, PASSWORD).status_code == 429


class TestSecondStep:
    """signin.second_step: the lock of the password step, for the steps after it."""

    def step(self, user, attempt, reason="second_factor"):
        return signin.second_step(
            db.session, user, reason, attempt, now=context.now(), policy=context.login_policy()
        )

    def test_a_passed_step_gives_its_result(self, app, analyst):
        assert self.step(analyst, lambda: "totp") == ("totp", None)
        assert db.session.scalar(select(LoginThrottle)) is None

    def test_a_failed_step_counts_towards_the_lock(self, app, analyst):
        results = [self.step(analyst, lambda: None, "enrolment_code") for _ in range(5)]
        assert [r[0] for r in results] == [None] * 5
        assert [r[1] is not None for r in results] == [False] * 4 + [True]
        db.session.commit()  # the audit log is written at commit
        failed = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
        ).all()
        assert [e.details["reason"] for e in failed] == ["enrolment_code"] * 5

    def test_a_locked_address_is_refused_without_trying(self, app, analyst):
        for _ in range(5):
            self.step(analyst, lambda: None)
        tried = []
        result, lock = self.step(analyst, lambda: tried.append(1) or "totp")
        assert result is None and lock is not None and tried == []
        db.session.commit()
        refused = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "auth.login_refused_locked")
        ).one()
        assert refused.actor_id == analyst.id and refused.details["email"] == analyst.email

"""Signing in with a second factor: the two steps, replays, recovery codes,
enrolment (forced for supervisors and admins). The admins' reset is in
tests/staff/test_views.py."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth.models import RecoveryCode, User
from casemgr.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD, forget_last_code, totp_code


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def password_step(client, user, **kwargs):
    return client.post("/login", data={"email": user.email, "password": PASSWORD}, **kwargs)


def signed_in(client) -> bool:
    response = client.get("/cases/")
    return response.status_code == 200


class TestTwoSteps:
    def test_the_password_alone_does_not_sign_a_supervisor_in(self, client, supervisor):
        response = password_step(client, supervisor)
        assert response.status_code == 302 and response.location == "/login/code"
        assert not signed_in(client)
        assert "auth.login" not in actions() and "auth.password_ok" in actions()

    def test_the_code_signs_in_and_is_audited(self, client, supervisor):
        password_step(client, supervisor, query_string={"next": "/cases/new"})
        response = client.post("/login/code", data={"code": totp_code(supervisor)})
        assert response.status_code == 302 and response.location == "/cases/new"
        assert signed_in(client)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.login"))
        assert entry.actor_id == supervisor.id
        assert entry.details == {"second_factor": "totp"}

    def test_an_analyst_without_a_second_factor_needs_no_code(self, client, analyst):
        response = password_step(client, analyst)
        assert response.location == "/cases/"
        assert signed_in(client)

    def test_an_analyst_with_a_second_factor_is_asked_for_it(self, client, make):
        analyst = make.user("analyst", two_factor=True)
        assert password_step(client, analyst).location == "/login/code"

    def test_the_code_page_without_the_password_step_sends_back(self, client, supervisor):
        response = client.post("/login/code", data={"code": totp_code(supervisor)})
        assert response.status_code == 302 and response.location == "/login"
        assert not signed_in(client)

    def test_a_wrong_code_is_refused_and_audited(self, client, supervisor):
        password_step(client, supervisor)
        wrong = f"{(int(totp_code(supervisor)) + 1) % 10**6:06d}"
        response = client.post("/login/code", data={"code": wrong})
        assert response.status_code == 401
        assert b"not right" in response.data
        assert not signed_in(client)
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
        )
        assert entry.details["reason"] == "second_factor"

    @pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "x" * 41, "１２３４５６"])
    def test_malformed_codes_are_refused_never_a_500(self, client, supervisor, code):
        password_step(client, supervisor)
        assert client.post("/login/code", data={"code": code}).status_code in (200, 401)
        assert not signed_in(client)

    def test_the_pending_step_expires(self, client, clock, supervisor):
        password_step(client, supervisor)
        clock.advance(minutes=11)
        response = client.post("/login/code", data={"code": totp_code(supervisor)})
        assert response.status_code == 302 and response.location == "/login"
        assert not signed_in(client)

    def test_a_password_change_between_the_steps_voids_the_first(self, client, supervisor):
        from casemgr.auth.accounts import set_password

        password_step(client, supervisor)
        set_password(db.session, supervisor, "another long passphrase", now=context.now())
        db.session.commit()
        response = client.post("/login/code", data={"code": totp_code(supervisor)})
        assert response.location == "/login"
        assert not signed_in(client)

    def test_a_forged_pending_state_is_ignored(self, client, supervisor):
        # The session cookie is signed: a browser cannot write a pending state itself.
        client.set_cookie(
            "casemgr_session",
            f'{{"login_pending":{{"user_id":{supervisor.id},"stage":"code"}}}}',
        )
        response = client.post("/login/code", data={"code": totp_code(supervisor)})
        assert response.location == "/login"


class TestReplays:
    def test_a_code_is_accepted_once(self, app, supervisor):
        first, second = app.test_client(), app.test_client()
        password_step(first, supervisor)
        password_step(second, supervisor)
        code = totp_code(supervisor)
        assert first.post("/login/code", data={"code": code}).status_code == 302
        response = second.post("/login/code", data={"code": code})
        assert response.status_code == 401
        assert not signed_in(second)
        assert "auth.2fa_replay" in actions()

    def test_the_previous_windows_code_is_accepted_once_only(self, app, clock, supervisor):
        earlier = totp_code(supervisor, at=clock.now() - timedelta(seconds=30))
        first, second = app.test_client(), app.test_client()
        password_step(first, supervisor)
        password_step(second, supervisor)
        assert first.post("/login/code", data={"code": earlier}).status_code == 302
        assert second.post("/login/code", data={"code": earlier}).status_code == 401

    def test_an_older_code_after_a_newer_one_is_refused(self, app, clock, supervisor):
        first, second = app.test_client(), app.test_client()
        password_step(first, supervisor)
        password_step(second, supervisor)
        assert first.post("/login/code", data={"code": totp_code(supervisor)}).status_code == 302
        older = totp_code(supervisor, at=clock.now() - timedelta(seconds=30))
        assert second.post("/login/code", data={"code": older}).status_code == 401

    def test_a_stale_code_is_refused(self, client, clock, supervisor):
        stale = totp_code(supervisor, at=clock.now() - timedelta(seconds=90))
        password_step(client, supervisor)
        assert client.post("/login/code", data={"code": stale}).status_code == 401

    def test_the_next_windows_code_is_accepted(self, client, clock, supervisor):
        password_step(client, supervisor)
        code = totp_code(supervisor, at=clock.now() + timedelta(seconds=30))
        assert client.post("/login/code", data={"code": code}).status_code == 302


class TestEnrolment:
    @pytest.fixture
    def newcomer(self, make):
        return make.user("supervisor", two_factor=False)

    def enrol(self, client, user) -> list[str]:
        """The forced enrolment after the password step; returns the recovery codes."""
        assert password_step(client, user).location == "/login/enrol"
        page = client.get("/login/enrol").get_data(as_text=True)
        secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")
        code = pyotp.TOTP(secret).at(context.now())
        response = client.post("/login/enrol", data={"code": code})
        assert response.status_code == 200, response.data
        return re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.get_data(as_text=True))

    def test_a_supervisor_without_a_second_factor_must_enrol_first(self, client, newcomer):
        response = password_step(client, newcomer)
        assert response.location == "/login/enrol"
        # Nothing else until it is done: not signed in at all.
        for path in ("/cases/", "/directory/", "/account/password", "/account/two-factor"):
            assert client.get(path).location.startswith("/login"), path
        page = client.get("/login/enrol")
        assert page.status_code == 200
        assert b"<svg" in page.data and b"<script" not in page.data
        assert b"otpauth" not in page.data  # the QR is drawn here, not fetched or linked

    def test_enrolment_shows_ten_codes_once_and_signs_in(self, client, newcomer):
        codes = self.enrol(client, newcomer)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert signed_in(client)
        user = db.session.get(User, newcomer.id)
        assert user.has_two_factor and user.totp_secret is not None
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10
        assert not any(code.replace("-", "") in stored for code in codes)  # hashes only
        assert "auth.2fa_enrol" in actions()
        assert codes[0] not in client.get("/account/two-factor").get_data(as_text=True)

    def test_a_wrong_enrolment_code_enrols_nothing(self, client, newcomer):
        password_step(client, newcomer)
        client.get("/login/enrol")
        response = client.post("/login/enrol", data={"code": "000000"})
        assert response.status_code == 422
        assert not db.session.get(User, newcomer.id).has_two_factor
        assert not signed_in(client)

    def test_recovery_codes_work_once_each(self, app, newcomer):
        codes = self.enrol(app.test_client(), newcomer)
        first, second = app.test_client(), app.test_client()
        password_step(first, newcomer)
        assert first.post("/login/code", data={"code": codes[3].upper()}).status_code == 302
        assert signed_in(first)
        password_step(second, newcomer)
        assert second.post("/login/code", data={"code": codes[3]}).status_code == 401
        assert "auth.2fa_recovery_code_used" in actions()

    def test_an_analyst_may_enrol_from_the_account_page(self, client, analyst):
        login(client, analyst)
        page = client.get("/account/two-factor").get_data(as_text=True)
        secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")
        response = client.post(
            "/account/two-factor", data={"code": pyotp.TOTP(secret).at(context.now())}
        )
        assert response.status_code == 200 and b"shown <strong>once</strong>" in response.data
        assert signed_in(client)  # this session goes on
        client.post("/logout")
        assert password_step(client, analyst).location == "/login/code"

    def test_new_recovery_codes_need_a_current_code(self, client, make):
        user = make.user("analyst", two_factor=True)
        login(client, user)
        assert (
            client.post(
                "/account/two-factor/recovery-codes", data={"code": "aaaa-bbbb-cccc-dddd"}
            ).status_code
            == 422
        )
        clock_code = totp_code(user, at=context.now() + timedelta(seconds=30))
        response = client.post("/account/two-factor/recovery-codes", data={"code": clock_code})
        assert response.status_code == 200
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 10


class TestEveryone:
    @pytest.fixture
    def app_config(self):
        return {"REQUIRE_2FA_FOR_ALL": True}

    def test_analysts_must_enrol_when_the_setting_is_on(self, client, make):
        analyst = make.user("analyst", two_factor=False)
        assert password_step(client, analyst).location == "/login/enrol"

    def test_a_session_from_before_the_setting_is_sent_to_enrol(self, app, make):
        analyst = make.user("analyst", two_factor=False)
        client = app.test_client()
        app.extensions["casemgr.login_policy"] = type(context.login_policy())(
            require_2fa_for_all=False
        )
        login(client, analyst)
        app.extensions["casemgr.login_policy"] = type(context.login_policy())(
            require_2fa_for_all=True
        )
        response = client.get("/cases/")
        assert response.status_code == 302 and response.location == "/account/two-factor"
        assert client.get("/account/two-factor").status_code == 200


def test_the_factory_login_helper_signs_in_every_role(app, analyst, supervisor, admin):
    for user in (analyst, supervisor, admin, supervisor):
        client = login(app.test_client(), user)
        assert signed_in(client)
        forget_last_code(user)

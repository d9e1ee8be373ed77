"""The secret of a second factor being set up stays on the server (encrypted on
the user's row), never in the session cookie, in both ways of setting one up;
it is shown only to the browser it was made for, and expires."""

from __future__ import annotations

import base64
import re

import pyotp
import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth.models import User
from casemgr.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD

COOKIE = "casemgr_session"


@pytest.fixture
def newcomer(make):
    return make.user("supervisor", two_factor=False)


def shown_secret(response) -> str:
    page = response.get_data(as_text=True)
    return re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")


def code_for(secret: str) -> str:
    return pyotp.TOTP(secret).at(context.now())


def assert_not_in_cookie(app, client, secret: str) -> None:
    raw = client.get_cookie(COOKIE).value
    decoded = app.session_interface.get_signing_serializer(app).loads(raw)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    forms = {
        secret,
        secret.lower(),
        grouped,
        base64.b32decode(secret).hex(),
        base64.b64encode(base64.b32decode(secret)).decode(),
    }
    for text in (repr(decoded), raw):
        for form in forms:
            assert form not in text, form


def stored(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def start_login_enrolment(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.location == "/login/enrol"
    return client.get("/login/enrol")


class TestNeverInTheCookie:
    def test_at_the_sign_in(self, app, client, newcomer):
        secret = shown_secret(start_login_enrolment(client, newcomer))
        assert_not_in_cookie(app, client, secret)
        refused = client.post("/login/enrol", data={"code": "000000"})
        assert refused.status_code == 422 and shown_secret(refused) == secret
        assert_not_in_cookie(app, client, secret)
        done = client.post("/login/enrol", data={"code": code_for(secret)})
        assert done.status_code == 200 and b"shown <strong>once</strong>" in done.data
        assert_not_in_cookie(app, client, secret)

    def test_on_the_account_page(self, app, client, analyst):
        login(client, analyst)
        secret = shown_secret(client.get("/account/two-factor"))
        assert_not_in_cookie(app, client, secret)
        done = client.post("/account/two-factor", data={"code": code_for(secret)})
        assert done.status_code == 200
        assert_not_in_cookie(app, client, secret)

    def test_it_is_kept_encrypted_on_the_users_row_until_set_up(self, client, newcomer):
        secret = shown_secret(start_login_enrolment(client, newcomer))
        user = stored(newcomer)
        assert user.totp_pending_secret is not None and user.totp_pending_at == context.now()
        assert secret.encode() not in user.totp_pending_secret
        assert context.cipher().decrypt(user.totp_pending_secret) == secret
        client.post("/login/enrol", data={"code": code_for(secret)})
        user = stored(newcomer)
        assert user.has_two_factor and context.cipher().decrypt(user.totp_secret) == secret
        assert (user.totp_pending_secret, user.totp_pending_at, user.totp_pending_holder) == (
            None,
            None,
            None,
        )


class TestOneBrowser:
    def test_the_same_secret_while_the_page_is_reloaded(self, client, newcomer):
        first = shown_secret(start_login_enrolment(client, newcomer))
        assert shown_secret(client.get("/login/enrol")) == first

    def test_another_browser_never_sees_the_secret_of_the_first(self, app, newcomer):
        mine, theirs = app.test_client(), app.test_client()
        my_secret = shown_secret(start_login_enrolment(mine, newcomer))
        their_secret = shown_secret(start_login_enrolment(theirs, newcomer))
        assert my_secret != their_secret
        # Theirs replaced mine: my code is not taken, and I am shown a new secret.
        refused = mine.post("/login/enrol", data={"code": code_for(my_secret)})
        assert refused.status_code == 422 and b"started again" in refused.data
        renewed = shown_secret(refused)
        assert renewed not in (my_secret, their_secret)
        assert not stored(newcomer).has_two_factor
        done = mine.post("/login/enrol", data={"code": code_for(renewed)})
        assert done.status_code == 200
        assert context.cipher().decrypt(stored(newcomer).totp_secret) == renewed

    def test_a_restarted_set_up_is_no_failed_sign_in(self, app, newcomer):
        mine, theirs = app.test_client(), app.test_client()
        my_secret = shown_secret(start_login_enrolment(mine, newcomer))
        start_login_enrolment(theirs, newcomer)
        mine.post("/login/enrol", data={"code": code_for(my_secret)})
        failures = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
        ).all()
        assert failures == []


class TestExpiry:
    def test_the_secret_expires_with_the_enrolment_window(self, client, clock, analyst):
        login(client, analyst)
        old = shown_secret(client.get("/account/two-factor"))
        clock.advance(minutes=9)
        assert shown_secret(client.get("/account/two-factor")) == old
        clock.advance(minutes=2)  # 11 minutes after it was made; LOGIN_PENDING_MINUTES is 10
        refused = client.post("/account/two-factor", data={"code": code_for(old)})
        assert refused.status_code == 422 and b"started again" in refused.data
        new = shown_secret(refused)
        assert new != old
        done = client.post("/account/two-factor", data={"code": code_for(new)})
        assert done.status_code == 200
        assert client.get("/cases/").status_code == 200  # this session goes on

"""Signing out ends the session on the server: a kept copy of the cookie is
refused, other devices go on; signing out everywhere ends them all; the
account page lists the sessions; ended and expired rows are forgotten."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth import accounts, sessions
from casemgr.auth.models import User, UserSession
from casemgr.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD

COOKIE = "casemgr_session"


def device(app, user):
    """A browser of ``user``, signed in."""
    return login(app.test_client(), user)


def copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def key_hash_of(client) -> str:
    with client.session_transaction() as cookie:
        return UserSession.hash(cookie[sessions.KEY])


def signed_in(client) -> bool:
    response = client.get("/cases/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def rows(user) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


def entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


class TestSigningOut:
    def test_a_cookie_kept_from_before_is_refused_after_signing_out(self, app, analyst):
        browser = device(app, analyst)
        kept = copy_of(app, browser)
        assert signed_in(kept)  # the copy works while the session is open

        response = browser.post("/logout")
        assert response.status_code == 302 and response.location == "/login"

        replay = kept.get("/cases/")
        assert replay.status_code == 302 and replay.location.startswith("/login")
        assert b"Your session has ended" in kept.get("/login").data
        assert not signed_in(copy_of(app, browser)) and not signed_in(browser)
        [row] = rows(analyst)
        assert row.ended and row.end_reason == "logout"
        assert [entry.actor_id for entry in entries("auth.logout")] == [analyst.id]
        assert entries("auth.stale_session")  # the replay is on record

    def test_the_other_devices_sessions_go_on(self, app, analyst):
        laptop, phone = device(app, analyst), device(app, analyst)
        laptop.post("/logout")
        assert signed_in(phone) and not signed_in(laptop)
        assert [row.ended for row in rows(analyst)] == [True, False]

    def test_signing_in_again_after_signing_out_works(self, app, client, analyst):
        login(client, analyst)
        client.post("/logout")
        login(client, analyst)
        assert signed_in(client)

    def test_the_cookie_holds_the_key_the_server_only_its_hash(self, app, client, analyst):
        login(client, analyst)
        with client.session_transaction() as cookie:
            key = cookie[sessions.KEY]
        [row] = rows(analyst)
        assert row.key_hash == UserSession.hash(key) != key
        assert not db.session.scalar(select(func.count()).where(UserSession.key_hash == key))


class TestRefused:
    def test_a_row_the_server_ended_is_refused_though_the_cookie_is_fresh(
        self, client, clock, analyst
    ):
        login(client, analyst)
        clock.advance(minutes=1)  # well within the idle and absolute limits
        db.session.execute(update(UserSession).values(ended_at=context.now()))
        db.session.commit()
        response = client.get("/cases/")
        assert response.status_code == 302 and response.location.startswith("/login")

    def test_a_deleted_row_is_refused(self, client, analyst):
        login(client, analyst)
        db.session.execute(UserSession.__table__.delete())
        db.session.commit()
        assert not signed_in(client)

    def test_a_cookie_without_a_key_is_refused(self, client, analyst):
        """As every cookie made before the server kept sessions."""
        login(client, analyst)
        with client.session_transaction() as cookie:
            del cookie[sessions.KEY]
        assert not signed_in(client)

    def test_another_users_key_is_refused(self, app, client, analyst, make):
        other = make.user("analyst")
        login(client, analyst)
        with device(app, other).session_transaction() as theirs:
            their_key = theirs[sessions.KEY]
        with client.session_transaction() as cookie:
            cookie[sessions.KEY] = their_key
        assert not signed_in(client)

    def test_an_open_row_with_an_old_session_token_is_refused(self, client, analyst):
        login(client, analyst)
        db.session.execute(update(User).values(session_token="0" * 32))
        db.session.commit()
        assert not signed_in(client)
        assert not rows(analyst)[0].ended


class TestEverywhere:
    def test_it_ends_every_session_this_one_too(self, app, analyst):
        laptop, phone = device(app, analyst), device(app, analyst)
        kept = copy_of(app, laptop)
        token = analyst.session_token

        response = laptop.post("/account/sessions/end")
        assert response.status_code == 302 and response.location == "/login"
        assert b"signed out everywhere" in laptop.get("/login").data
        assert not signed_in(laptop) and not signed_in(phone) and not signed_in(kept)
        db.session.expire_all()
        assert db.session.get(User, analyst.id).session_token != token
        assert {(row.ended, row.end_reason) for row in rows(analyst)} == {(True, "everywhere")}
        assert signed_in(device(app, analyst))  # a new sign-in works

    def test_it_is_audited(self, app, analyst):
        laptop, _phone = device(app, analyst), device(app, analyst)
        laptop.post("/account/sessions/end")
        [entry] = entries("auth.logout_everywhere")
        assert (entry.actor_id, entry.target_type, entry.target_id) == (
            analyst.id,
            "user",
            str(analyst.id),
        )
        assert entry.details == {"sessions": 2}

    def test_it_needs_post(self, client, analyst):
        login(client, analyst)
        assert client.get("/account/sessions/end").status_code == 405
        assert signed_in(client)

    def test_another_users_sessions_are_untouched(self, app, analyst, make):
        other = make.user("analyst")
        theirs = device(app, other)
        device(app, analyst).post("/account/sessions/end")
        assert signed_in(theirs)


class TestEverywhereWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def sign_in(self, client, user):
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post(
            "/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        return client

    def test_without_the_token_it_is_refused(self, client, analyst):
        self.sign_in(client, analyst)
        assert client.post("/account/sessions/end").status_code == 400
        forged = client.post("/account/sessions/end", data={"csrf_token": "forged"})
        assert forged.status_code == 400
        assert signed_in(client) and not entries("auth.logout_everywhere")

    def test_the_account_pages_form_works(self, client, analyst):
        self.sign_in(client, analyst)
        page = client.get("/account").get_data(as_text=True)
        form = page.split('action="/account/sessions/end"')[1]
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post("/account/sessions/end", data={"csrf_token": token})
        assert response.status_code == 302 and not signed_in(client)


class TestAccountPage:
    def test_it_lists_the_open_sessions_this_one_marked(self, app, clock, analyst):
        first = device(app, analyst)
        clock.advance(minutes=7)
        second = device(app, analyst)
        page = second.get("/account").get_data(as_text=True)
        assert "You are signed in in 2 sessions" in page
        assert page.count("(this one)") == 1
        listed = page.split('id="sessions"')[1].split("</ul>")[0]
        assert listed.index("(this one)") < listed.index("</li>")  # the newest, first
        first.post("/logout")
        assert "You are signed in in 1 session:" in second.get("/account").get_data(as_text=True)

    def test_a_session_left_idle_is_not_listed(self, app, clock, analyst):
        device(app, analyst)
        clock.advance(minutes=40)
        page = device(app, analyst).get("/account").get_data(as_text=True)
        assert "You are signed in in 1 session:" in page


class TestOtherChanges:
    def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(self, app, analyst):
        laptop, phone = device(app, analyst), device(app, analyst)
        response = laptop.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": "a brand new passphrase",
                "confirm": "a brand new passphrase",
            },
        )
        assert response.status_code == 302, response.data
        assert signed_in(laptop) and not signed_in(phone)
        assert [(row.ended, row.end_reason) for row in rows(analyst)] == [
            (False, None),
            (True, "password"),
        ]

    def test_an_admins_reset_of_the_second_factor_ends_every_session(self, app, admin, make):
        user = make.user("analyst", two_factor=True)
        browser = device(app, user)
        accounts.reset_two_factor(db.session, user, now=context.now(), actor=admin.actor)
        db.session.commit()
        assert not signed_in(browser)
        assert [row.end_reason for row in rows(user)] == ["two_factor"]

    def test_deactivation_ends_every_session(self, app, admin, analyst):
        browser = device(app, analyst)
        data = accounts.AccountInput(
            email=analyst.email, name=analyst.name, role="analyst", active=False
        )
        accounts.update_user(db.session, analyst, data, now=context.now(), actor=admin.actor)
        db.session.commit()
        assert not signed_in(browser)
        assert [row.end_reason for row in rows(analyst)] == ["account"]


class TestHousekeeping:
    def test_ended_and_expired_rows_go_at_the_next_sign_in(self, app, clock, analyst):
        device(app, analyst).post("/logout")  # ended
        idle = device(app, analyst)  # the ended row is gone at this sign-in
        assert [row.ended for row in rows(analyst)] == [False]
        kept = device(app, analyst)
        for _ in range(2):
            clock.advance(minutes=20)
            assert signed_in(kept)  # the other is left idle past the limit
        latest = device(app, analyst)
        assert {row.key_hash for row in rows(analyst)} == {
            key_hash_of(kept),
            key_hash_of(latest),
        }
        assert key_hash_of(idle) not in {row.key_hash for row in rows(analyst)}
        assert signed_in(kept)

    def test_the_absolute_limit_forgets_a_busy_session(self, app, clock, analyst):
        busy = device(app, analyst)
        for _ in range(12 * 3):
            clock.advance(minutes=20)
            signed_in(busy)
        device(app, analyst)
        assert len(rows(analyst)) == 1

    def test_last_seen_is_written_now_and_then_not_at_every_request(self, client, clock, analyst):
        login(client, analyst)
        started = rows(analyst)[0].last_seen_at
        clock.advance(minutes=1)
        assert signed_in(client)
        db.session.expire_all()
        assert rows(analyst)[0].last_seen_at == started
        clock.advance(minutes=5)
        assert signed_in(client)
        db.session.expire_all()
        assert rows(analyst)[0].last_seen_at == context.now()

"""The password policy, changing one's own password, and the sessions a change ends."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.auth import passwords
from casemgr.auth.models import User
from casemgr.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12"),
        ("x" * 1025, "at most 1024"),
        ("password1234", "most common"),
        ("Password2024!", "most common"),
        ("!!qwerty123456", "most common"),
        ("qwertyqwerty", "most common"),
        ("monkeymonkeymonkey", "most common"),
        ("aaaaaaaaaaaaaaaa", "most common"),
        ("123412341234", "most common"),
        ("sokha.chan-2026!", "e-mail"),
        ("my name is SOKHA.CHAN ok", "e-mail"),
    ],
)
def test_weak_passwords_are_refused(password, problem):
    found = passwords.problems(password, email="sokha.chan@hotline.example.org")
    assert any(problem in message for message in found), found


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "tuk-tuk river mango 7",
        "ពាក្យសម្ងាត់វែងណាស់",
        "a" + "b" * 3 + "cdefghijkl",
    ],
)
def test_long_uncommon_passwords_pass(password):
    assert passwords.problems(password, email="sokha.chan@hotline.example.org") == []


def test_the_shipped_list_holds_thousands():
    common = passwords.common_passwords()
    assert len(common) >= 5000 and "password" in common and "123456" in common


def test_an_admin_cannot_set_a_common_password(client, admin, analyst):
    login(client, admin)
    response = client.post(
        f"/admin/users/{analyst.id}",
        data={
            "name": analyst.name,
            "email": analyst.email,
            "role": "analyst",
            "active": "y",
            "password": "password123456",
        },
    )
    assert response.status_code == 422 and b"most common" in response.data


def test_the_cli_refuses_a_weak_password(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "x@example.org",
            "--name",
            "X",
            "--role",
            "admin",
            "--password",
            "qwertyuiop12",
        ]
    )
    assert result.exit_code == 1 and "most common" in result.output


class TestChangeOwnPassword:
    def change(self, client, current=PASSWORD, new="a fresh long passphrase", confirm=None):
        return client.post(
            "/account/password",
            data={"current_password": current, "new_password": new, "confirm": confirm or new},
        )

    def test_a_user_changes_their_password(self, app, client, analyst):
        login(client, analyst)
        other = login(app.test_client(), analyst)
        response = self.change(client)
        assert response.status_code == 302
        assert client.get("/cases/").status_code == 200  # this session goes on
        assert other.get("/cases/").status_code == 302  # every other one ended
        assert db.session.get(User, analyst.id).check_password("a fresh long passphrase")
        assert db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "auth.password_change")
        )

    def test_the_current_password_is_required(self, client, analyst):
        login(client, analyst)
        response = self.change(client, current="not my password")
        assert response.status_code == 422 and b"not your current password" in response.data
        assert db.session.get(User, analyst.id).check_password(PASSWORD)
        assert db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "auth.password_change_failed")
        )

    @pytest.mark.parametrize(
        ("new", "confirm", "message"),
        [
            ("password123456", None, b"most common"),
            ("a fresh long passphrase", "something else entirely", b"do not match"),
            (PASSWORD, None, b"your current password"),
        ],
    )
    def test_bad_new_passwords_are_refused(self, client, analyst, new, confirm, message):
        login(client, analyst)
        response = self.change(client, new=new, confirm=confirm)
        assert response.status_code == 422 and message in response.data

    def test_signed_out_users_are_sent_to_sign_in(self, client):
        assert client.get("/account/password").location.startswith("/login")


class TestSessionsEnd:
    """A session cookie made before a change of password, second factor, role
    or activation is refused (and the attempt audited)."""

    def edit(self, admin_client, user, **changes):
        data = {
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "active": "y",
            **changes,
        }
        if data["active"] is None:
            del data["active"]
        return admin_client.post(f"/admin/users/{user.id}", data=data)

    def test_an_old_cookie_after_a_password_change(self, app, client, analyst, admin):
        login(client, analyst)
        stolen = client.get_cookie("casemgr_session").value
        self.edit(login(app.test_client(), admin), analyst, password="an entirely new password")
        replay = app.test_client()
        replay.set_cookie("casemgr_session", stolen)
        assert replay.get("/cases/").status_code == 302
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "auth.stale_session")
        )
        assert entry.actor_id == analyst.id

    def test_deactivation_ends_every_session(self, app, client, analyst, admin):
        login(client, analyst)
        self.edit(login(app.test_client(), admin), analyst, active=None)
        assert client.get("/cases/").status_code == 302

    def test_a_role_change_ends_every_session(self, app, client, analyst, admin):
        login(client, analyst)
        self.edit(login(app.test_client(), admin), analyst, role="supervisor")
        assert client.get("/cases/").status_code == 302
        # The new supervisor enrols a second factor at the next sign-in.
        response = client.post("/login", data={"email": analyst.email, "password": PASSWORD})
        assert response.location == "/login/enrol"

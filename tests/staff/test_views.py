"""The admins' staff account screens: who may open them, creating and editing
accounts, and resetting a second factor."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casemgr.audit.models import AuditEntry
from casemgr.auth.models import RecoveryCode, User
from casemgr.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD


def password_step(client, user, **kwargs):
    return client.post("/login", data={"email": user.email, "password": PASSWORD}, **kwargs)


def signed_in(client) -> bool:
    response = client.get("/cases/")
    return response.status_code == 200


class TestStaffAdministration:
    @pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/users/1"])
    def test_anonymous_is_sent_to_sign_in(self, client, path):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location

    @pytest.mark.parametrize("role", ["analyst", "supervisor"])
    @pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/users/1"])
    def test_only_admins(self, client, make, role, path):
        login(client, make.user(role))
        assert client.get(path).status_code == 403
        assert client.post(path, data={}).status_code in (403, 405)

    def test_admin_creates_an_account(self, client, admin):
        login(client, admin)
        response = client.post(
            "/admin/users/new",
            data={
                "name": "New Analyst",
                "email": "New@Example.org",
                "role": "analyst",
                "active": "y",
                "password": "long enough password",
            },
        )
        assert response.status_code == 302
        user = db.session.scalar(select(User).where(User.email == "new@example.org"))
        assert user.role == "analyst" and user.check_password("long enough password")
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"email": "not-an-email"}, b"Invalid email"),
            ({"password": "short"}, b"at least 12 characters"),
            ({"role": "god"}, b"Not a valid choice"),
            ({"name": ""}, b"This field is required"),
        ],
    )
    def test_bad_accounts_are_refused_with_the_field_named(self, client, admin, data, message):
        login(client, admin)
        form = {
            "name": "X",
            "email": "x@example.org",
            "role": "analyst",
            "password": "long enough password",
            **data,
        }
        response = client.post("/admin/users/new", data=form)
        assert response.status_code == 422
        assert message in response.data

    def test_duplicate_email_is_refused(self, client, admin, analyst):
        login(client, admin)
        response = client.post(
            "/admin/users/new",
            data={
                "name": "Copy",
                "email": analyst.email.upper(),
                "role": "analyst",
                "password": "long enough password",
            },
        )
        assert response.status_code == 422
        assert b"exists already" in response.data

    def test_admin_cannot_demote_themselves(self, client, admin):
        login(client, admin)
        response = client.post(
            f"/admin/users/{admin.id}",
            data={"name": admin.name, "email": admin.email, "role": "analyst", "active": "y"},
        )
        assert response.status_code == 422
        assert db.session.get(User, admin.id).role == "admin"

    def test_admin_sets_the_language_of_an_account(self, client, admin, analyst):
        login(client, admin)
        page = client.get(f"/admin/users/{analyst.id}").get_data(as_text=True)
        assert "Language of the staff screens" in page and "ខ្មែរ" in page
        form = {"name": analyst.name, "email": analyst.email, "role": "analyst", "active": "y"}
        response = client.post(f"/admin/users/{analyst.id}", data={**form, "language": "km"})
        assert response.status_code == 302
        assert db.session.get(User, analyst.id).language == "km"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.update"))
        assert entry.actor_id == admin.id and entry.details == {"language": [None, "km"]}
        assert "ខ្មែរ" in client.get("/admin/users").get_data(as_text=True)
        # Saving the form again with the default chosen returns it to None.
        client.post(f"/admin/users/{analyst.id}", data={**form, "language": ""})
        assert db.session.get(User, analyst.id).language is None

    @pytest.mark.parametrize("value", ["xx", "english", "km\x00"])
    def test_an_unknown_language_is_refused_naming_the_field(self, client, admin, value):
        """An unknown code is the form's 422; a NUL never reaches the form (the
        input guard's 400, naming the field)."""
        login(client, admin)
        response = client.post(
            "/admin/users/new",
            data={
                "name": "X",
                "email": "x@example.org",
                "role": "analyst",
                "password": "long enough password",
                "language": value,
            },
        )
        page = response.get_data(as_text=True)
        if "\x00" in value:
            assert response.status_code == 400
            assert "language: must not contain control characters" in page
        else:
            assert response.status_code == 422
            assert "Language of the staff screens" in page and "must be one of: en, km" in page
        assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None

    def test_a_new_account_gets_its_language(self, client, admin):
        login(client, admin)
        client.post(
            "/admin/users/new",
            data={
                "name": "Sokha",
                "email": "sokha@example.org",
                "role": "analyst",
                "password": "long enough password",
                "language": "km",
            },
        )
        assert db.session.scalar(select(User.language).where(User.name == "Sokha")) == "km"

    @pytest.mark.parametrize("user_id", [9999, 2**31, 10**20])
    def test_unknown_user_is_404(self, client, admin, user_id):
        login(client, admin)
        assert client.get(f"/admin/users/{user_id}").status_code == 404
        assert client.post(f"/admin/users/{user_id}/two-factor/reset").status_code == 404


class TestReset:
    def test_an_admin_resets_a_second_factor_and_it_is_audited(self, app, admin, supervisor):
        victim_session = login(app.test_client(), supervisor)
        client = login(app.test_client(), admin)
        response = client.post(f"/admin/users/{supervisor.id}/two-factor/reset")
        assert response.status_code == 302
        user = db.session.get(User, supervisor.id)
        assert not user.has_two_factor and user.totp_last_step is None
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.2fa_reset"))
        assert (entry.actor_id, entry.target_id) == (admin.id, str(supervisor.id))
        # Every session of theirs ended; the next sign-in enrols again.
        assert not signed_in(victim_session)
        assert password_step(app.test_client(), supervisor).location == "/login/enrol"

    @pytest.mark.parametrize("role", ["analyst", "supervisor"])
    def test_only_admins_reset(self, client, make, role, analyst):
        login(client, make.user(role))
        assert client.post(f"/admin/users/{analyst.id}/two-factor/reset").status_code == 403

import pytest
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.auth.models import User
from casemgr.extensions import db
from tests.conftest import login
from tests.factories import PASSWORD


class TestSignIn:
    def test_sign_in_and_out(self, client, analyst):
        response = client.post("/login", data={"email": analyst.email, "password": PASSWORD})
        assert response.status_code == 302 and response.location == "/cases/"
        assert client.get("/cases/").status_code == 200
        assert client.post("/logout").status_code == 302
        assert client.get("/cases/").status_code == 302

    def test_wrong_password_is_refused_and_audited(self, client, analyst):
        response = client.post("/login", data={"email": analyst.email, "password": "nope"})
        assert response.status_code == 401
        assert b"E-mail or password is wrong" in response.data
        assert (
            db.session.scalar(
                select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
            ).actor_id
            == analyst.id
        )

    def test_unknown_account_gets_the_same_answer(self, client):
        response = client.post("/login", data={"email": "who@example.org", "password": "x"})
        assert response.status_code == 401
        assert b"E-mail or password is wrong" in response.data

    def test_deactivated_staff_cannot_sign_in(self, client, make):
        user = make.user("analyst", active=False)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 401

    @pytest.mark.parametrize("target", ["/cases/new", "/cases/?view=mine"])
    def test_returns_to_the_page_asked_for(self, client, analyst, target):
        response = client.post(
            f"/login?next={target}", data={"email": analyst.email, "password": PASSWORD}
        )
        assert response.location == target

    @pytest.mark.parametrize(
        "target",
        [
            "https://evil.example/",
            "//evil.example/x",
            "javascript:alert(1)",
            "/\\evil.example/x",  # browsers read "/\" as "//"
            "/\\/evil.example",
            "/cases/\n/x",
        ],
    )
    def test_never_redirects_off_site(self, client, analyst, target):
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": analyst.email, "password": PASSWORD},
        )
        assert response.location == "/cases/"

    def test_logout_needs_post(self, client, analyst):
        login(client, analyst)
        assert client.get("/logout").status_code == 405

    def test_password_change_ends_other_sessions(self, app, client, analyst, admin):
        login(client, analyst)
        other = app.test_client()
        login(other, admin)
        other.post(
            f"/admin/users/{analyst.id}",
            data={
                "name": analyst.name,
                "email": analyst.email,
                "role": "analyst",
                "active": "y",
                "password": "a brand new password",
            },
        )
        assert client.get("/cases/").status_code == 302


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

    @pytest.mark.parametrize("user_id", [9999, 2**31, 10**20])
    def test_unknown_user_is_404(self, client, admin, user_id):
        login(client, admin)
        assert client.get(f"/admin/users/{user_id}").status_code == 404
        assert client.post(f"/admin/users/{user_id}/two-factor/reset").status_code == 404

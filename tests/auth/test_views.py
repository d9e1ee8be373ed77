import pytest
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
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

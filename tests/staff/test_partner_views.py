"""Admins create partner hotlines' accounts, issue and revoke their tokens, and
see each partner's organisation in the lists; nobody else may (CSRF on)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth import accounts
from casemgr.auth.models import ApiToken, User
from casemgr.auth.tokens import issue_token
from casemgr.extensions import db
from tests.conftest import login

SECRET = re.compile(r"cm_[A-Za-z0-9_-]{40,}")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _text(response) -> str:
    return response.get_data(as_text=True)


def _form(hotline_id, **changes) -> dict:
    return {
        "email": "api@hotline-z.example.org",
        "name": "Hotline Z's casemgr",
        "organisation": str(hotline_id),
        "active": "y",
    } | changes


class TestCreate:
    def test_an_admin_creates_a_partner_account_issues_a_token_and_revokes_it(
        self, client, admin, make
    ):
        hotline = make.organisation("hotline", name="Hotline Z", country="DE")
        make.organisation("hosting_provider", name="Not a hotline")
        login(client, admin)
        page = _text(client.get("/admin/partners/new"))
        assert "Hotline Z (DE)" in page and "Not a hotline" not in page
        assert 'name="password"' not in page and 'name="role"' not in page
        response = client.post("/admin/partners/new", data=_form(hotline.id))
        assert response.status_code == 302, _text(response)
        user = accounts.find_by_email(db.session, "api@hotline-z.example.org")
        assert (user.role, user.organisation_id) == ("partner", hotline.id)
        assert response.location == f"/admin/users/{user.id}#api-tokens"

        account = _text(client.get(f"/admin/users/{user.id}"))
        assert "Hotline Z (DE)" in account and "Second factor" not in account
        issued = client.post(f"/admin/users/{user.id}/tokens", data={"label": "Hotline Z"})
        assert issued.status_code == 200 and SECRET.search(_text(issued))
        token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
        assert client.post(f"/admin/tokens/{token.id}/revoke").status_code == 302
        db.session.refresh(token)
        assert token.revoked_at is not None
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert {"user.create", "api_token.create", "api_token.revoke"} <= set(actions)

    @pytest.mark.parametrize(
        ("organisation", "message"),
        [("", "is required for a partner account"), ("police", "is not a partner hotline")],
    )
    def test_a_partner_account_needs_a_hotline(self, client, admin, make, organisation, message):
        if organisation == "police":
            organisation = make.organisation("police", name="Police unit").id
        login(client, admin)
        response = client.post("/admin/partners/new", data=_form(organisation))
        assert response.status_code == 422 and message in _text(response)
        assert db.session.scalar(select(func.count()).select_from(User)) == 1  # the admin

    def test_an_admin_edits_a_partner_account_without_making_it_staff(self, client, admin, make):
        partner = make.user("partner")
        other = make.organisation("hotline", name="Other hotline")
        login(client, admin)
        page = _text(client.get(f"/admin/users/{partner.id}"))
        assert f'<option selected value="{partner.organisation_id}">' in page
        response = client.post(
            f"/admin/users/{partner.id}",
            data=_form(other.id, email=partner.email, name="Renamed", role="admin"),
        )
        assert response.status_code == 302
        db.session.refresh(partner)
        assert (partner.name, partner.role, partner.organisation_id) == (
            "Renamed",
            "partner",
            other.id,
        )


class TestLists:
    def test_the_lists_show_a_partners_organisation(self, client, admin, make):
        hotline = make.organisation("hotline", name="Hotline Q", country="FR")
        partner = make.user("partner", hotline=hotline)
        issue_token(db.session, partner, now=context.now(), label="Q")
        db.session.commit()
        login(client, admin)
        assert "Hotline Q (FR)" in _text(client.get("/admin/users"))
        assert "Hotline Q (FR)" in _text(client.get("/admin/tokens"))


class TestDenials:
    @pytest.mark.parametrize("role", ["analyst", "supervisor"])
    def test_only_admins_create_partner_accounts(self, client, make, role):
        hotline = make.organisation("hotline")
        login(client, make.user(role))
        assert client.get("/admin/partners/new").status_code == 403
        assert client.post("/admin/partners/new", data=_form(hotline.id)).status_code == 403
        assert accounts.find_by_email(db.session, "api@hotline-z.example.org") is None

    def test_anonymous_is_sent_to_sign_in(self, client, make):
        hotline = make.organisation("hotline")
        response = client.post("/admin/partners/new", data=_form(hotline.id))
        assert response.status_code == 302 and response.location.startswith("/login")

    def test_creating_needs_the_forms_token(self, app, client, admin, make):
        hotline = make.organisation("hotline")
        login(client, admin)
        app.config["WTF_CSRF_ENABLED"] = True
        assert client.post("/admin/partners/new", data=_form(hotline.id)).status_code == 400
        assert accounts.find_by_email(db.session, "api@hotline-z.example.org") is None
        token = CSRF.search(_text(client.get("/admin/partners/new"))).group(1)
        response = client.post("/admin/partners/new", data=_form(hotline.id, csrf_token=token))
        assert response.status_code == 302

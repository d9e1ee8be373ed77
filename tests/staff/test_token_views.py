"""The admins' API token screens: the tokens of an account and of everyone,
issuing one (shown once, never cached) and revoking one (confirmed, CSRF)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth import tokens as api_tokens
from casemgr.auth.models import ApiToken
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db
from tests.conftest import login

SECRET = re.compile(r"cm_[A-Za-z0-9_-]{40,}")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _issue(user, label="Partner hotline") -> api_tokens.IssuedToken:
    issued = api_tokens.issue_api_token(
        db.session, user, label=label, actor=SYSTEM_ACTOR, now=context.now()
    )
    db.session.commit()
    return issued


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _text(response) -> str:
    return response.get_data(as_text=True)


class TestListing:
    def test_the_account_page_lists_its_tokens_without_secrets(self, client, admin, make, clock):
        partner = make.user("analyst", name="Partner Hotline")
        used = _issue(partner, "Hotline X upload")
        api_tokens.user_for_token(db.session, used.secret, now=context.now())
        revoked = _issue(partner, "Old laptop")
        clock.advance(hours=1)
        api_tokens.revoke_token(db.session, revoked.token.id, actor=admin.actor, now=context.now())
        db.session.commit()
        page = _text(login(client, admin).get(f"/admin/users/{partner.id}"))
        assert "Hotline X upload" in page and "Old laptop" in page
        assert f"#{used.token.id}" in page and "2026-11-28 09:00 UTC" in page
        assert "revoked 2026-11-28 10:00 UTC" in page and "active" in page
        assert f"/admin/tokens/{used.token.id}/revoke" in page
        assert f"/admin/tokens/{revoked.token.id}/revoke" not in page  # revoked already
        assert not SECRET.search(page)
        assert db.session.get(ApiToken, used.token.id).token_hash not in page

    def test_every_token_of_everyone(self, client, admin, make):
        one, two = make.user("analyst"), make.user("supervisor")
        _issue(one, "first partner")
        _issue(two, "staff tool")
        page = _text(login(client, admin).get("/admin/tokens"))
        assert "first partner" in page and "staff tool" in page
        assert one.email in page and two.email in page
        assert not SECRET.search(page)

    def test_a_deactivated_accounts_tokens_show_as_refused_and_none_can_be_issued(
        self, client, admin, make
    ):
        user = make.user("analyst", active=False)
        user.active = True
        _issue(user)
        user.active = False
        db.session.commit()
        page = _text(login(client, admin).get(f"/admin/users/{user.id}"))
        assert "refused: account deactivated" in page
        assert "Issue token" not in page

    def test_the_staff_list_links_to_all_tokens(self, client, admin):
        assert "/admin/tokens" in _text(login(client, admin).get("/admin/users"))


class TestIssuing:
    def test_the_token_is_shown_once_and_never_cached(self, client, admin, analyst):
        login(client, admin)
        response = client.post(f"/admin/users/{analyst.id}/tokens", data={"label": "Partner"})
        assert response.status_code == 200 and response.location is None
        assert response.headers["Cache-Control"] == "no-store"
        page = _text(response)
        (secret,) = set(SECRET.findall(page))
        assert "shown <strong>once</strong>" in page and "will not be shown again" in page
        token = db.session.scalar(select(ApiToken))
        assert token.token_hash == ApiToken.hash(secret) and token.label == "Partner"
        assert f"API token #{token.id}" in page
        assert api_tokens.user_for_token(db.session, secret, now=context.now()).id == analyst.id
        # Nowhere after that: not on the account's page, the list, or in the log.
        for path in (f"/admin/users/{analyst.id}", "/admin/tokens", "/admin/audit/"):
            assert secret not in _text(client.get(path)), path
        assert secret not in str(db.session.scalars(select(AuditEntry.details)).all())

    def test_is_audited_with_the_admin(self, client, admin, analyst):
        login(client, admin)
        client.post(f"/admin/users/{analyst.id}/tokens", data={"label": "Partner"})
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.create"))
        assert (entry.actor_id, entry.target_id) == (admin.id, str(analyst.id))
        assert entry.details["label"] == "Partner"

    @pytest.mark.parametrize(
        ("label", "message"),
        [
            ("", "This field is required"),
            ("   ", "This field is required"),
            ("x" * 121, "Field cannot be longer than 120 characters"),
        ],
    )
    def test_a_bad_label_is_refused_with_the_field_named(
        self, client, admin, analyst, label, message
    ):
        login(client, admin)
        response = client.post(f"/admin/users/{analyst.id}/tokens", data={"label": label})
        assert response.status_code == 422
        page = _text(response)
        field = page[page.index('<label for="label">') :]
        assert message in field[: field.index("</div>")]
        assert not SECRET.search(page)
        assert _count(ApiToken) == 0
        # The account's page again, its form filled from the account and still
        # sent to the account's address (not to this one).
        assert analyst.email in page and f'action="/admin/users/{analyst.id}"' in page

    def test_a_label_with_a_control_character_is_refused_by_the_input_guard(
        self, client, admin, analyst
    ):
        login(client, admin)
        response = client.post(f"/admin/users/{analyst.id}/tokens", data={"label": "bell\x07"})
        assert response.status_code == 400
        assert "label: must not contain control characters" in _text(response)
        assert _count(ApiToken) == 0

    def test_a_deactivated_account_gets_no_token(self, client, admin, make):
        user = make.user("analyst", active=False)
        response = login(client, admin).post(f"/admin/users/{user.id}/tokens", data={"label": "x"})
        assert response.status_code == 409
        assert _count(ApiToken) == 0

    @pytest.mark.parametrize("user_id", [9999, 2**31, 10**20])
    def test_an_unknown_account_is_404(self, client, admin, user_id):
        login(client, admin)
        assert client.post(f"/admin/users/{user_id}/tokens", data={"label": "x"}).status_code == 404
        assert _count(ApiToken) == 0


class TestRevoking:
    def test_asks_to_confirm_then_revokes_and_the_next_api_call_is_401(
        self, app, client, admin, analyst
    ):
        issued = _issue(analyst, "Leaked token")
        api = app.test_client()
        headers = {"Authorization": f"Bearer {issued.secret}"}
        assert api.get("/api/v1/cases", headers=headers).status_code == 200
        login(client, admin)
        confirm = client.get(f"/admin/tokens/{issued.token.id}/revoke")
        assert confirm.status_code == 200
        page = _text(confirm)
        assert "Leaked token" in page and analyst.email in page and "cannot be undone" in page
        assert '<form method="post"' in page and 'name="csrf_token"' in page
        assert db.session.get(ApiToken, issued.token.id).revoked_at is None  # GET changes nothing

        response = client.post(f"/admin/tokens/{issued.token.id}/revoke")
        assert response.status_code == 302
        assert response.location == f"/admin/users/{analyst.id}"
        assert db.session.get(ApiToken, issued.token.id).revoked_at == context.now()
        answer = api.get("/api/v1/cases", headers=headers)
        assert answer.status_code == 401
        assert answer.json["error"] == "unauthorized"
        assert "is revoked since" in _text(client.get(response.location))

    def test_is_audited_with_the_admin(self, client, admin, analyst):
        issued = _issue(analyst)
        login(client, admin).post(f"/admin/tokens/{issued.token.id}/revoke")
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.revoke"))
        assert (entry.actor_id, entry.target_id) == (admin.id, str(analyst.id))
        assert entry.details == {"token_id": issued.token.id, "label": "Partner hotline"}

    def test_twice_keeps_the_first_time(self, client, admin, analyst, clock):
        issued = _issue(analyst)
        path = f"/admin/tokens/{issued.token.id}/revoke"
        login(client, admin).post(path)
        first = context.now()
        clock.advance(hours=3)
        login(client, admin)  # the session is over by now
        assert client.post(path).status_code == 302
        assert db.session.get(ApiToken, issued.token.id).revoked_at == first
        page = _text(client.get(path))
        assert "was revoked on 2026-11-28 09:00 UTC" in page
        assert "Revoke the token" not in page
        revokes = select(func.count()).where(AuditEntry.action == "api_token.revoke")
        assert db.session.scalar(revokes) == 1

    @pytest.mark.parametrize("token_id", [9999, 2**31, 10**20])
    @pytest.mark.parametrize("method", ["GET", "POST"])
    def test_an_unknown_token_is_404(self, client, admin, method, token_id):
        login(client, admin)
        assert client.open(f"/admin/tokens/{token_id}/revoke", method=method).status_code == 404


class TestOnlyAdmins:
    """The matrix (tests/test_permissions.py) checks the answers; here, that a
    refused request also changes nothing."""

    @pytest.mark.parametrize("role", ["analyst", "supervisor"])
    def test_staff_below_admin_are_refused_and_nothing_changes(self, client, make, role):
        owner = make.user("analyst")
        issued = _issue(owner)
        login(client, make.user(role))
        assert client.get("/admin/tokens").status_code == 403
        assert client.get(f"/admin/tokens/{issued.token.id}/revoke").status_code == 403
        assert client.post(f"/admin/tokens/{issued.token.id}/revoke").status_code == 403
        response = client.post(f"/admin/users/{owner.id}/tokens", data={"label": "mine"})
        assert response.status_code == 403
        assert db.session.get(ApiToken, issued.token.id).revoked_at is None
        assert _count(ApiToken) == 1

    def test_anonymous_is_sent_to_sign_in_and_nothing_changes(self, client, make):
        owner = make.user("analyst")
        issued = _issue(owner)
        for method, path, data in (
            ("GET", "/admin/tokens", None),
            ("GET", f"/admin/tokens/{issued.token.id}/revoke", None),
            ("POST", f"/admin/tokens/{issued.token.id}/revoke", {}),
            ("POST", f"/admin/users/{owner.id}/tokens", {"label": "x"}),
        ):
            response = client.open(path, method=method, data=data)
            assert response.status_code == 302 and response.location.startswith("/login"), path
        assert db.session.get(ApiToken, issued.token.id).revoked_at is None
        assert _count(ApiToken) == 1


class TestCsrf:
    """CSRF is off in tests; switched on after signing in, as in production."""

    def test_issuing_needs_the_forms_token(self, app, client, admin, analyst):
        login(client, admin)
        app.config["WTF_CSRF_ENABLED"] = True
        refused = client.post(f"/admin/users/{analyst.id}/tokens", data={"label": "x"})
        assert refused.status_code == 400 and not SECRET.search(_text(refused))
        assert _count(ApiToken) == 0
        token = CSRF.search(_text(client.get(f"/admin/users/{analyst.id}"))).group(1)
        response = client.post(
            f"/admin/users/{analyst.id}/tokens", data={"label": "x", "csrf_token": token}
        )
        assert response.status_code == 200 and SECRET.search(_text(response))

    def test_revoking_needs_the_forms_token(self, app, client, admin, analyst):
        issued = _issue(analyst)
        path = f"/admin/tokens/{issued.token.id}/revoke"
        login(client, admin)
        app.config["WTF_CSRF_ENABLED"] = True
        assert client.post(path).status_code == 400
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
        assert db.session.get(ApiToken, issued.token.id).revoked_at is None
        token = CSRF.search(_text(client.get(path))).group(1)
        assert client.post(path, data={"csrf_token": token}).status_code == 302
        assert db.session.get(ApiToken, issued.token.id).revoked_at == context.now()

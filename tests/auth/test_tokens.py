"""API tokens in the service layer: issuing, listing, revoking, and the audit
entries each leaves; a revoked token is refused by the very next API call."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth import tokens as api_tokens
from casemgr.auth.models import ApiToken
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import Conflict, NotFound, ValidationFailed
from casemgr.extensions import db


def _entries(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def _issue(user, *, label="Partner hotline", actor=SYSTEM_ACTOR) -> api_tokens.IssuedToken:
    issued = api_tokens.issue_api_token(
        db.session, user, label=label, actor=actor, now=context.now()
    )
    db.session.commit()
    return issued


class TestIssuing:
    def test_only_the_hash_is_stored_and_the_secret_works(self, analyst):
        issued = _issue(analyst)
        stored = db.session.get(ApiToken, issued.token.id)
        assert stored.token_hash == ApiToken.hash(issued.secret)
        assert issued.secret not in stored.token_hash and issued.secret.startswith("cm_")
        user = api_tokens.user_for_token(db.session, issued.secret, now=context.now())
        assert user.id == analyst.id

    def test_is_audited_with_the_admin_and_without_the_secret(self, analyst, admin):
        issued = _issue(analyst, actor=admin.actor)
        (entry,) = _entries("api_token.create")
        assert (entry.actor_id, entry.target_type, entry.target_id) == (
            admin.id,
            "user",
            str(analyst.id),
        )
        assert entry.details == {"token_id": issued.token.id, "label": "Partner hotline"}
        assert issued.secret not in str(entry.details)

    def test_from_the_command_line_has_no_actor(self, analyst):
        _issue(analyst, actor=SYSTEM_ACTOR)
        assert _entries("api_token.create")[0].actor_id is None

    def test_the_old_entry_point_still_gives_the_secret(self, analyst):
        secret = api_tokens.issue_token(db.session, analyst, now=context.now(), label="x")
        db.session.commit()
        assert api_tokens.user_for_token(db.session, secret, now=context.now()).id == analyst.id

    def test_the_label_is_trimmed(self, analyst):
        assert _issue(analyst, label="  Police unit  ").token.label == "Police unit"

    @pytest.mark.parametrize(
        ("label", "message"),
        [
            ("x" * 121, "at most 120 characters"),
            ("tab\there", "control characters"),
            ("nul\x00", "control characters"),
        ],
    )
    def test_a_bad_label_is_refused_with_the_field_named(self, analyst, label, message):
        with pytest.raises(ValidationFailed) as refused:
            api_tokens.issue_api_token(
                db.session, analyst, label=label, actor=SYSTEM_ACTOR, now=context.now()
            )
        assert message in " ".join(refused.value.fields["label"])
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0

    def test_a_deactivated_account_gets_none(self, make):
        user = make.user("analyst", active=False)
        with pytest.raises(Conflict):
            api_tokens.issue_api_token(
                db.session, user, label="x", actor=SYSTEM_ACTOR, now=context.now()
            )


class TestListing:
    def test_a_users_tokens_newest_first_with_revoked_ones(self, analyst, supervisor, clock):
        first = _issue(analyst, label="first").token
        clock.advance(hours=1)
        second = _issue(analyst, label="second").token
        _issue(supervisor, label="someone else's")
        api_tokens.revoke_token(db.session, first.id, actor=SYSTEM_ACTOR, now=context.now())
        db.session.commit()
        tokens = api_tokens.list_tokens(db.session, analyst)
        assert [t.id for t in tokens] == [second.id, first.id]
        assert [t.revoked for t in tokens] == [False, True]

    def test_all_tokens_of_everyone(self, analyst, supervisor, clock):
        _issue(analyst, label="a")
        clock.advance(minutes=5)
        _issue(supervisor, label="s")
        labels = [(t.label, t.user.email) for t in api_tokens.list_all_tokens(db.session)]
        assert labels == [("s", supervisor.email), ("a", analyst.email)]

    def test_usable_says_whether_a_call_would_be_let_in(self, make):
        user = make.user("analyst")
        token = _issue(user).token
        assert token.usable
        user.active = False
        assert not token.usable
        user.active = True
        api_tokens.revoke_token(db.session, token.id, actor=SYSTEM_ACTOR, now=context.now())
        assert not token.usable


class TestRevoking:
    def test_the_next_api_call_gets_401(self, client, analyst, admin):
        secret = _issue(analyst).secret
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/cases", headers=headers).status_code == 200
        api_tokens.revoke_token(
            db.session,
            api_tokens.list_tokens(db.session, analyst)[0].id,
            actor=admin.actor,
            now=context.now(),
        )
        db.session.commit()
        response = client.get("/api/v1/cases", headers=headers)
        assert response.status_code == 401
        assert response.json["error"] == "unauthorized"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]

    def test_is_audited_once_and_keeps_the_first_time(self, analyst, admin, clock):
        token = _issue(analyst).token
        first = context.now()
        api_tokens.revoke_token(db.session, token.id, actor=admin.actor, now=first)
        db.session.commit()
        clock.advance(hours=2)
        again = api_tokens.revoke_token(db.session, token.id, actor=SYSTEM_ACTOR, now=context.now())
        db.session.commit()
        assert again.revoked_at == first
        assert db.session.get(ApiToken, token.id).revoked_at == first
        (entry,) = _entries("api_token.revoke")
        assert (entry.actor_id, entry.target_type, entry.target_id) == (
            admin.id,
            "user",
            str(analyst.id),
        )
        assert entry.details == {"token_id": token.id, "label": "Partner hotline"}

    def test_other_tokens_keep_working(self, analyst):
        kept, revoked = _issue(analyst, label="kept"), _issue(analyst, label="revoked")
        api_tokens.revoke_token(db.session, revoked.token.id, actor=SYSTEM_ACTOR, now=context.now())
        db.session.commit()
        assert api_tokens.user_for_token(db.session, kept.secret, now=context.now())
        assert api_tokens.user_for_token(db.session, revoked.secret, now=context.now()) is None

    def test_a_token_in_use_can_be_revoked(self, analyst, clock):
        issued = _issue(analyst)
        api_tokens.user_for_token(db.session, issued.secret, now=context.now())
        clock.advance(minutes=5)
        api_tokens.user_for_token(db.session, issued.secret, now=context.now())  # stamps its use
        api_tokens.revoke_token(db.session, issued.token.id, actor=SYSTEM_ACTOR, now=context.now())
        db.session.commit()
        stored = db.session.get(ApiToken, issued.token.id)
        assert stored.revoked_at == stored.last_used_at == context.now()

    @pytest.mark.parametrize("token_id", [0, -1, 9999, 2**31, 10**20])
    def test_an_unknown_id_is_not_found(self, app, token_id):
        with pytest.raises(NotFound):
            api_tokens.revoke_token(db.session, token_id, actor=SYSTEM_ACTOR, now=context.now())

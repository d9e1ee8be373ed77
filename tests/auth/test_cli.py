import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth import tokens as api_tokens
from casemgr.auth.models import ApiToken, User
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db


def test_users_create(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Sup@Example.org",
            "--name",
            "Sup",
            "--role",
            "supervisor",
            "--password",
            "long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.email, user.role) == ("sup@example.org", "supervisor")


def test_users_create_refuses_bad_input(runner):
    result = runner.invoke(
        args=["users", "create", "nope", "--name", "X", "--role", "analyst", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "email:" in result.output and "password:" in result.output


def test_users_create_refuses_an_unknown_role(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "a@example.org",
            "--name",
            "X",
            "--role",
            "root",
            "--password",
            "long enough password",
        ]
    )
    assert result.exit_code == 2


def test_token_is_the_last_line_and_only_its_hash_is_stored(runner, analyst):
    result = runner.invoke(args=["users", "token", analyst.email])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash == ApiToken.hash(token) and token not in stored.token_hash
    assert api_tokens.user_for_token(db.session, token, now=context.now()).id == analyst.id


def test_token_for_unknown_account(runner):
    result = runner.invoke(args=["users", "token", "nobody@example.org"])
    assert result.exit_code == 1


def test_keys_contact_prints_a_usable_key(runner):
    from casemgr.crypto import ContactCipher

    result = runner.invoke(args=["keys", "contact"])
    assert result.exit_code == 0
    key = result.output.strip()
    assert ContactCipher(key).decrypt(ContactCipher(key).encrypt("x")) == "x"


def test_token_names_its_id_for_revoking_later(runner, analyst):
    result = runner.invoke(args=["users", "token", analyst.email, "--label", "Partner"])
    stored = db.session.scalar(select(ApiToken))
    assert f"API token {stored.id} for {analyst.email}" in result.output
    assert stored.label == "Partner"


def test_token_refuses_a_bad_label(runner, analyst):
    result = runner.invoke(args=["users", "token", analyst.email, "--label", "x" * 121])
    assert result.exit_code == 1 and "label: must be at most 120 characters" in result.output
    assert db.session.scalar(select(ApiToken)) is None


class TestTokens:
    def test_lists_an_accounts_tokens_newest_first_without_secrets(
        self, runner, analyst, supervisor, clock
    ):
        old = _issue(analyst, "Old partner system")
        clock.advance(hours=1)
        new = _issue(analyst, "Partner hotline")
        _issue(supervisor, "someone else's")
        api_tokens.user_for_token(db.session, new.secret, now=context.now())
        api_tokens.revoke_token(db.session, old.token.id, actor=SYSTEM_ACTOR, now=context.now())
        db.session.commit()
        result = runner.invoke(args=["users", "tokens", analyst.email.upper()])
        assert result.exit_code == 0, result.output
        header, *rows = result.output.splitlines()
        assert header.split("\t") == ["ID", "ISSUED", "LAST USED", "STATUS", "LABEL"]
        assert [row.split("\t") for row in rows] == [
            [
                str(new.token.id),
                "2026-11-28T10:00:00+00:00",
                "2026-11-28T10:00:00+00:00",
                "active",
                "Partner hotline",
            ],
            [
                str(old.token.id),
                "2026-11-28T09:00:00+00:00",
                "never",
                "revoked 2026-11-28T10:00:00+00:00",
                "Old partner system",
            ],
        ]
        assert new.secret not in result.output and old.secret not in result.output

    def test_says_when_there_are_none(self, runner, analyst):
        result = runner.invoke(args=["users", "tokens", analyst.email])
        assert result.exit_code == 0 and "has no API tokens" in result.output

    def test_a_deactivated_accounts_tokens_are_refused(self, runner, analyst):
        _issue(analyst, "x")
        analyst.active = False
        db.session.commit()
        result = runner.invoke(args=["users", "tokens", analyst.email])
        assert "refused (account deactivated)" in result.output

    def test_an_unknown_email_is_a_usage_error_naming_it(self, runner):
        result = runner.invoke(args=["users", "tokens", "nobody@example.org"])
        assert result.exit_code == 2
        assert "Invalid value for 'EMAIL'" in result.output
        assert "no account with e-mail nobody@example.org" in result.output


class TestRevokeToken:
    def test_revokes_audits_and_the_next_api_call_is_401(self, runner, client, analyst):
        issued = _issue(analyst, "Leaked")
        headers = {"Authorization": f"Bearer {issued.secret}"}
        assert client.get("/api/v1/cases", headers=headers).status_code == 200
        result = runner.invoke(args=["users", "revoke-token", str(issued.token.id)])
        assert result.exit_code == 0, result.output
        assert f"Revoked API token {issued.token.id} (Leaked) of {analyst.email}" in result.output
        assert db.session.get(ApiToken, issued.token.id).revoked_at == context.now()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "api_token.revoke"))
        assert entry.actor_id is None and entry.details["token_id"] == issued.token.id
        response = client.get("/api/v1/cases", headers=headers)
        assert response.status_code == 401 and response.json["error"] == "unauthorized"

    def test_twice_says_so_and_keeps_the_first_time(self, runner, analyst, clock):
        issued = _issue(analyst, "x")
        runner.invoke(args=["users", "revoke-token", str(issued.token.id)])
        first = context.now()
        clock.advance(days=1)
        result = runner.invoke(args=["users", "revoke-token", str(issued.token.id)])
        assert result.exit_code == 0
        assert "was revoked already, at 2026-11-28T09:00:00+00:00" in result.output
        assert db.session.get(ApiToken, issued.token.id).revoked_at == first

    @pytest.mark.parametrize("token_id", ["9999", "0", "-3", str(10**20)])
    def test_an_unknown_id_is_a_usage_error_naming_it(self, runner, token_id):
        result = runner.invoke(args=["users", "revoke-token", "--", token_id])
        assert result.exit_code == 2
        assert "Invalid value for 'TOKEN_ID'" in result.output
        assert f"no API token with id {token_id}" in result.output

    def test_an_id_that_is_no_number_is_a_usage_error(self, runner):
        result = runner.invoke(args=["users", "revoke-token", "cm_secret"])
        assert result.exit_code == 2 and "TOKEN_ID" in result.output


def _issue(user, label: str) -> api_tokens.IssuedToken:
    issued = api_tokens.issue_api_token(
        db.session, user, label=label, actor=SYSTEM_ACTOR, now=context.now()
    )
    db.session.commit()
    return issued

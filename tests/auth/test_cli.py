from sqlalchemy import select

from casemgr import context
from casemgr.auth import services as accounts
from casemgr.auth.models import ApiToken, User
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
    assert accounts.user_for_token(db.session, token, now=context.now()).id == analyst.id


def test_token_for_unknown_account(runner):
    result = runner.invoke(args=["users", "token", "nobody@example.org"])
    assert result.exit_code == 1


def test_keys_contact_prints_a_usable_key(runner):
    from casemgr.crypto import ContactCipher

    result = runner.invoke(args=["keys", "contact"])
    assert result.exit_code == 0
    key = result.output.strip()
    assert ContactCipher(key).decrypt(ContactCipher(key).encrypt("x")) == "x"

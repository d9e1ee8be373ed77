from datetime import datetime

import click
from flask.cli import with_appcontext

from casemgr import context
from casemgr.auth import accounts, tokens
from casemgr.auth.models import ApiToken
from casemgr.domain import SYSTEM_ACTOR, Role
from casemgr.errors import NotFound, ValidationFailed
from casemgr.extensions import db
from casemgr.localtime import local


@click.group("users", help="Manage staff accounts and partner hotlines' API accounts.")
def users_cli():
    pass


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in accounts.ACCOUNT_ROLES]), required=True)
@click.option(
    "--organisation",
    type=int,
    default=None,
    help="For --role partner: the id of the partner hotline in the directory.",
)
@click.option(
    "--password",
    default=None,
    hide_input=True,
    help="Asked for when left out (staff only: a partner account has no usable password).",
)
@with_appcontext
def create_command(
    email: str, name: str, role: str, organisation: int | None, password: str | None
):
    """Create a staff account, or a partner hotline's API-only account
    (--role partner --organisation ID; then issue it a token with `users token`)."""
    if role == Role.PARTNER:
        if password is not None:
            _fail("password: a partner account never signs in; it has no password to set")
    else:
        if organisation is not None:
            _fail("organisation: only a partner account belongs to an organisation")
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            db.session,
            accounts.AccountInput(
                email=email,
                name=name,
                role=role,
                password=password,
                organisation_id=organisation,
            ),
            now=context.now(),
            actor=SYSTEM_ACTOR,
        )
    except ValidationFailed as exc:
        for field, messages in exc.fields.items():
            click.echo(f"{field}: {' '.join(messages)}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    if user.organisation is not None:
        click.echo(
            f"Created {user.role} {user.email} (id {user.id}) for {user.organisation.label} "
            f"(organisation {user.organisation_id}): API only, issue it a token with "
            f"`users token {user.email}`."
        )
    else:
        click.echo(f"Created {user.role} {user.email} (id {user.id}).")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise SystemExit(1)


@users_cli.command("token")
@click.argument("email")
@click.option("--label", default="", help="What the token is for, e.g. the partner's name.")
@with_appcontext
def token_command(email: str, label: str):
    """Issue an API token; it is printed once, as the last line."""
    user = accounts.find_by_email(db.session, email)
    if user is None or not user.active:
        click.echo(f"No active account with e-mail {email}.", err=True)
        raise SystemExit(1)
    try:
        issued = tokens.issue_api_token(
            db.session, user, label=label, actor=SYSTEM_ACTOR, now=context.now()
        )
    except ValidationFailed as exc:
        for field, messages in exc.fields.items():
            click.echo(f"{field}: {' '.join(messages)}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"API token {issued.token.id} for {user.email} (shown once, store it now):")
    click.echo(issued.secret)


@users_cli.command("tokens")
@click.argument("email")
@with_appcontext
def tokens_command(email: str):
    """List an account's API tokens (never their secrets), newest first."""
    user = accounts.find_by_email(db.session, email)
    if user is None:
        raise click.BadParameter(f"no account with e-mail {email}", param_hint="'EMAIL'")
    issued = tokens.list_tokens(db.session, user)
    if not issued:
        click.echo(f"{user.email} has no API tokens.")
        return
    click.echo("ID\tISSUED\tLAST USED\tSTATUS\tLABEL")
    for token in issued:
        click.echo(
            "\t".join(
                [
                    str(token.id),
                    _iso(token.created_at),
                    _iso(token.last_used_at) or "never",
                    _status(token),
                    token.label,
                ]
            )
        )


@users_cli.command("revoke-token")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_token_command(token_id: int):
    """Revoke an API token (the ID that `users tokens EMAIL` lists): the next call
    with it gets 401. Revoking a revoked token changes nothing."""
    now = context.now()
    try:
        token = tokens.revoke_token(db.session, token_id, actor=SYSTEM_ACTOR, now=now)
    except NotFound:
        raise click.BadParameter(
            f"no API token with id {token_id}", param_hint="'TOKEN_ID'"
        ) from None
    db.session.commit()
    what = f"API token {token.id} ({token.label or 'no label'}) of {token.user.email}"
    if token.revoked_at == now:
        click.echo(f"Revoked {what} at {_iso(now)}: every call with it gets 401.")
    else:
        click.echo(f"{what} was revoked already, at {_iso(token.revoked_at)}.")


def _iso(moment: datetime | None) -> str:
    """ISO 8601 on the hotline's clock (HOTLINE_TIMEZONE), its offset given."""
    if moment is None:
        return ""
    return local(moment, context.timezone()).isoformat(timespec="seconds")


def _status(token: ApiToken) -> str:
    if token.revoked:
        return f"revoked {_iso(token.revoked_at)}"
    return "active" if token.user.active else "refused (account deactivated)"


@click.group("keys", help="Make new secret keys; rotate the contact key.")
def keys_cli():
    pass


@keys_cli.command("contact")
def contact_key_command():
    """Print a new CONTACT_ENCRYPTION_KEY (it also encrypts second-factor secrets)."""
    from casemgr.crypto import ContactCipher

    click.echo(ContactCipher.generate_key())

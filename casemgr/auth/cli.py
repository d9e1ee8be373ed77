import click
from flask.cli import with_appcontext

from casemgr import context
from casemgr.auth import services as accounts
from casemgr.cases.workflow import STAFF_ROLES
from casemgr.errors import ValidationFailed
from casemgr.extensions import db


@click.group("users", help="Manage staff accounts.")
def users_cli():
    pass


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in STAFF_ROLES]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_command(email: str, name: str, role: str, password: str):
    """Create a staff account."""
    try:
        user = accounts.create_user(
            db.session,
            accounts.AccountInput(email=email, name=name, role=role, password=password),
            now=context.now(),
        )
    except ValidationFailed as exc:
        for field, messages in exc.fields.items():
            click.echo(f"{field}: {' '.join(messages)}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


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
    token = accounts.issue_token(db.session, user, now=context.now(), label=label)
    db.session.commit()
    click.echo(f"API token for {user.email} (shown once, store it now):")
    click.echo(token)


@click.group("keys", help="Make new secret keys.")
def keys_cli():
    pass


@keys_cli.command("contact")
def contact_key_command():
    """Print a new CONTACT_ENCRYPTION_KEY (it also encrypts second-factor secrets)."""
    from casemgr.crypto import ContactCipher

    click.echo(ContactCipher.generate_key())

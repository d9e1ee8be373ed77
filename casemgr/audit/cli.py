"""``flask audit verify``: walk the hash chain of the audit log."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from casemgr.audit import chain
from casemgr.extensions import db


@click.group("audit", help="Check the audit log.")
def audit_cli():
    pass


@audit_cli.command("verify")
@with_appcontext
def verify_command():
    """Check every entry's link and hash; exit 1 naming the first broken entry."""
    verdict = chain.verify(db.session)
    db.session.rollback()
    if not verdict.ok:
        click.echo(
            f"BROKEN at audit entry {verdict.broken_id} (entry {verdict.count} of the chain): "
            f"{verdict.reason}.",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"OK: {verdict.count} entries, last hash {verdict.last_hash}")

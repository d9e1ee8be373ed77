"""``flask --app wsgi keys rotate-contact [--dry-run]``: move every value stored
under the contact key to the newest key (docs/deployment.md, "Rotating the
contact-encryption key")."""

from __future__ import annotations

import logging
from datetime import datetime

import click
from flask.cli import with_appcontext

from casemgr import context
from casemgr.audit.services import record
from casemgr.crypto import ContactCipher
from casemgr.extensions import db
from casemgr.jobs.cli import IsoDateTime
from casemgr.keys import rotation
from casemgr.keys.registry import ENCRYPTED_COLUMNS
from casemgr.keys.rotation import ColumnTally

log = logging.getLogger("casemgr.keys")

HELP = """Re-encrypt every value stored under the contact key with the newest key.

The newest key is CONTACT_ENCRYPTION_KEY; CONTACT_ENCRYPTION_PREVIOUS_KEYS
are the older ones. First every stored value is checked: if one cannot be
decrypted with any of the keys, nothing is changed and the command names
how many rows per table (exit 1). Then the values under older keys are
re-encrypted, in batches committed as they go; a run stopped halfway is
simply run again (values already under the newest key are skipped). One
audit entry per run gives the counts.

Rotated: the columns of casemgr/keys/registry.py, that is reporters' contact
details and messages, second-factor secrets (and those being set up),
reporters' addresses on feedback e-mails not yet sent, and our API tokens at
partner hotlines. Partners' API tokens to this installation are
stored as hashes: there is nothing to decrypt, so rotation does not apply.
"""


@click.command("rotate-contact", help=HELP)
@click.option("--dry-run", is_flag=True, help="Check and count what would be done; change nothing.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=rotation.BATCH_SIZE,
    show_default=True,
    help="Values re-encrypted per transaction.",
)
@click.option(
    "--now",
    type=IsoDateTime(),
    default=None,
    help="The time of the audit entry (ISO 8601, UTC when no offset).",
)
@with_appcontext
def rotate_contact_command(dry_run: bool, batch_size: int, now: datetime | None) -> None:
    cipher = context.cipher()
    moment = now or context.now()
    click.echo(_keys_line(cipher))
    click.echo("Checking that every stored value can be decrypted:")
    found = [_survey(cipher, target, batch_size) for target in ENCRYPTED_COLUMNS]
    unreadable = [tally for tally in found if tally.unreadable]
    if unreadable:
        _refuse(unreadable)
        if not dry_run:
            _audit(cipher, "refused", found, moment)
            db.session.commit()
        raise click.exceptions.Exit(1)
    to_rotate = sum(tally.under_older_keys for tally in found)
    current = sum(tally.current for tally in found)
    if dry_run:
        click.echo(
            f"Dry run: {to_rotate} value(s) would be re-encrypted with the newest key; "
            f"{current} are under it already. Nothing was changed."
        )
        return

    click.echo("Re-encrypting with the newest key:")
    done: list[ColumnTally] = []
    for target, checked in zip(ENCRYPTED_COLUMNS, found, strict=True):
        committed = ColumnTally(target.name)
        try:
            for tally in rotation.rotate(db.session, cipher, target, batch_size=batch_size):
                db.session.commit()
                committed = tally.copy()
                batches = -(-tally.values // batch_size)
                if checked.values and (tally.values >= checked.values or batches % 10 == 0):
                    click.echo(
                        f"  {tally.name}: {tally.values}/{checked.values} checked, "
                        f"{tally.rotated} re-encrypted"
                    )
        except Exception:
            db.session.rollback()
            click.echo(
                f"Stopped in {target.name}: the batches before were committed. Run the "
                "command again to go on (values under the newest key are skipped).",
                err=True,
            )
            _audit_interruption(cipher, [*done, committed], moment)
            raise
        done.append(committed)
    _summary(done)
    _audit(cipher, "done", done, moment)
    db.session.commit()
    if any(tally.unreadable for tally in done):
        raise click.exceptions.Exit(1)


def _keys_line(cipher: ContactCipher) -> str:
    newest, *older = cipher.key_ids
    line = f"Newest key: CONTACT_ENCRYPTION_KEY (key id {newest}"
    line += ", derived from SECRET_KEY: development only)" if cipher.derived else ")"
    if not older:
        return line + "; no CONTACT_ENCRYPTION_PREVIOUS_KEYS."
    return line + f"; previous keys: {', '.join(f'{n} (key id {i})' for n, i in _numbered(older))}."


def _numbered(ids: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(ids, start=1))


def _survey(cipher: ContactCipher, target, batch_size: int) -> ColumnTally:
    tally = ColumnTally(target.name)
    for so_far in rotation.survey(db.session, cipher, target, batch_size=batch_size):
        db.session.rollback()  # no read transaction held between batches
        tally = so_far
    parts = [f"{tally.current} under the newest key"]
    for position, count in sorted(tally.by_key.items()):
        if position:
            parts.append(f"{count} under previous key {position}")
    if tally.unreadable:
        parts.append(f"{tally.unreadable} under no configured key")
    click.echo(
        f"  {tally.name}: {tally.values} value(s)"
        + (": " + ", ".join(parts) if tally.values else "")
    )
    return tally


def _refuse(unreadable: list[ColumnTally], *, changed: bool = False) -> None:
    total = sum(tally.unreadable for tally in unreadable)
    click.echo(
        f"{total} stored value(s) cannot be decrypted with any configured key "
        + ("and were left as they are:" if changed else "(refused: nothing was changed):"),
        err=True,
    )
    for tally in unreadable:
        ids = ", ".join(str(row_id) for row_id in tally.unreadable_ids)
        more = ", ..." if tally.unreadable > len(tally.unreadable_ids) else ""
        click.echo(f"  {tally.name}: {tally.unreadable} row(s) (ids {ids}{more})", err=True)
    click.echo(
        "Add the key they were encrypted with to CONTACT_ENCRYPTION_PREVIOUS_KEYS and run "
        "again. If that key is lost, these values cannot be read by anyone: see "
        '"Rotating the contact-encryption key" in docs/deployment.md.',
        err=True,
    )


def _summary(done: list[ColumnTally]) -> None:
    rotated = sum(tally.rotated for tally in done)
    current = sum(tally.current for tally in done)
    click.echo(
        f"Done: {rotated} value(s) re-encrypted with the newest key; {current} were under it "
        "already."
    )
    changed = sum(tally.changed_meanwhile for tally in done)
    if changed:
        click.echo(
            f"{changed} value(s) changed while the command ran and were left as the change "
            "made them; run it again to check them."
        )
    unreadable = [tally for tally in done if tally.unreadable]
    if unreadable:
        _refuse(unreadable, changed=True)


def _audit_interruption(cipher: ContactCipher, tallies: list[ColumnTally], now: datetime) -> None:
    """The entry of a run stopped by an error, with what its committed batches did
    (a run killed outright writes none: the next run's entry counts its work as
    already current)."""
    try:
        _audit(cipher, "interrupted", tallies, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("the audit entry of the interrupted rotation could not be written")


def _audit(cipher: ContactCipher, outcome: str, tallies: list[ColumnTally], now: datetime) -> None:
    """One entry per run: its outcome and counts, never a value."""
    newest, *older = cipher.key_ids
    record(
        db.session,
        action="keys.rotate_contact",
        now=now,
        details={
            "outcome": outcome,
            "key_id": newest,
            "previous_key_ids": older,
            "rotated": sum(tally.rotated for tally in tallies),
            "already_current": sum(tally.current for tally in tallies),
            "unreadable": sum(tally.unreadable for tally in tallies),
            "columns": {tally.name: tally.as_dict() for tally in tallies},
        },
    )

"""``flask audit verify [--checkpoint FILE]``: walk the audit log's chain and hold it
against the checkpoints kept outside the database; ``flask keys audit``."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from casemgr.audit import chain, checkpoints, verification
from casemgr.audit.checkpoints import Found
from casemgr.audit.keys import generate_key
from casemgr.extensions import db


@click.group("audit", help="Check the audit log.")
def audit_cli():
    pass


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A checkpoint file, or a checkpoint e-mail saved as it came (.eml); may be repeated. "
    "Without it: AUDIT_CHECKPOINT_FILE and the checkpoints stored in the database.",
)
@with_appcontext
def verify_command(files: tuple[str, ...]):
    """Check every entry's link, hash and key, and that the log still holds every
    checkpointed head; exit 1 naming the first broken entry or checkpoint."""
    keys = chain.current_keys()
    installation = checkpoints.installation_id(current_app.config)
    found, sources = _checkpoints(files)
    problems: list[str] = []
    good: list[Found] = []
    for item in found:
        problem = item.error or checkpoints.signature_problem(item.checkpoint, keys, installation)
        if problem:
            problems.append(f"CHECKPOINT {item.where}: {problem}.")
        else:
            good.append(item)
    heads = {item.checkpoint.entry_id for item in good if item.checkpoint is not None}
    keyed_from = min(
        (item.checkpoint.keyed_from for item in good if item.checkpoint.keyed_from is not None),
        default=None,
    )
    verdict = verification.verify(db.session, keys, entries=heads, keyed_from=keyed_from)
    db.session.rollback()
    if not verdict.ok:
        line = (
            f"BROKEN at audit entry {verdict.broken_id} (entry {verdict.count} of the chain): "
            f"{verdict.reason}."
        )
        if verdict.unknown_key and good:
            line += " The checkpoints verify under AUDIT_KEY: the log itself was replaced."
        problems.append(line)
    else:
        for item in good:
            problem = checkpoints.chain_problem(item.checkpoint, verdict)
            if problem:
                problems.append(
                    f"CHECKPOINT {item.where} (made {item.checkpoint.made}): {problem}."
                )
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"OK: {verdict.count} entries{_shape(verdict)}, last hash {verdict.last_hash}")
    click.echo(_used(good, sources))


def _checkpoints(files: tuple[str, ...]) -> tuple[list[Found], list[str]]:
    """What to check against, and the sources named (for the closing line)."""
    if files:
        return [item for path in files for item in checkpoints.read(path)], list(files)
    found: list[Found] = []
    sources = []
    path = current_app.config.get("AUDIT_CHECKPOINT_FILE") or ""
    if path and os.path.exists(path):
        found += checkpoints.read(path)
        sources.append(path)
    rows = checkpoints.stored(db.session)
    for row in rows:
        where = f"{row.id} stored in the database"
        try:
            found.append(Found(where, checkpoints.parse(row.line)))
        except ValueError as exc:
            found.append(Found(where, error=str(exc)))
    if rows:
        sources.append("the database")
    return found, sources


def _shape(verdict: verification.Verdict) -> str:
    if verdict.keyed_from is None:
        return " (plain hashes: none keyed yet)" if verdict.count else ""
    keyed = f"keyed from entry {verdict.keyed_from} under key id {', then '.join(verdict.key_ids)}"
    if verdict.plain:
        return f" ({verdict.plain} plain, then {keyed})"
    return f" ({keyed})"


def _used(good: list[Found], sources: list[str]) -> str:
    if not good:
        return (
            "No checkpoint to check against: entries removed from the end of the log would "
            "not show. Pass --checkpoint FILE, or set AUDIT_CHECKPOINT_FILE."
        )
    newest = max(good, key=lambda item: item.checkpoint.made_at).checkpoint
    text = (
        f"Checked against {len(good)} checkpoint{'s' if len(good) != 1 else ''} from "
        f"{', '.join(sources)}; the newest made {newest.made_at:%Y-%m-%d %H:%M:%S} UTC at "
        f"entry {newest.entry_id}."
    )
    if "the database" in sources:
        text += " (Whoever holds the database can remove the checkpoints stored in it.)"
    return text


@click.command("audit")
def audit_key_command():
    """Print a new AUDIT_KEY (keep the old one in AUDIT_PREVIOUS_KEYS when you rotate)."""
    click.echo(generate_key())

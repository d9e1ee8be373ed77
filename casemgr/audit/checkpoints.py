"""Checkpoints: the head of the audit log's chain, signed, kept outside the database.

A checkpoint is one line of text::

    casemgr-audit-checkpoint/1 installation=example-hotline made=2026-11-28T09:00:00Z
    entry=127 count=127 hash=<64 hex> keyed_from=1 key=<key id> sig=<64 hex>

(one line, the fields in this order): the newest entry's id and hash, how
many entries the log held up to it, the first keyed entry (``-`` while there
is none), the installation, and the HMAC-SHA256 of everything before
`` sig=`` under the audit key of that id. The ``audit_checkpoint`` job
(casemgr/jobs/audit_checkpoint.py) makes one, e-mails it between
:data:`BEGIN` and :data:`END` lines and appends it to AUDIT_CHECKPOINT_FILE.
``audit verify --checkpoint`` reads them back (:func:`read`) from such a
file or from a saved e-mail; :func:`signature_problem` and
:func:`chain_problem` say what is wrong with one.
"""

from __future__ import annotations

import email
import email.policy
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casemgr.audit.chain import GENESIS
from casemgr.audit.keys import AuditKeys, sign
from casemgr.audit.models import AuditCheckpoint, AuditEntry
from casemgr.audit.verification import Verdict
from casemgr.clock import as_utc, parse_iso

PREFIX = "casemgr-audit-checkpoint/1"
BEGIN = "-----BEGIN CASEMGR AUDIT CHECKPOINT-----"
END = "-----END CASEMGR AUDIT CHECKPOINT-----"
_FIELDS = ("installation", "made", "entry", "count", "hash", "keyed_from", "key", "sig")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_INSTALLATION = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Checkpoint:
    installation: str
    made_at: datetime
    entry_id: int
    count: int
    entry_hash: str
    keyed_from: int | None
    key_id: str
    signature: str = ""

    @property
    def made(self) -> str:
        """When it was made, as the line says it: ``2026-11-28T10:00:00Z``."""
        return as_utc(self.made_at).strftime("%Y-%m-%dT%H:%M:%SZ")

    def signed_text(self) -> str:
        """Everything the signature covers (the line without `` sig=...``)."""
        keyed = "-" if self.keyed_from is None else str(self.keyed_from)
        return (
            f"{PREFIX} installation={self.installation} made={self.made} entry={self.entry_id} "
            f"count={self.count} hash={self.entry_hash} keyed_from={keyed} key={self.key_id}"
        )

    @property
    def line(self) -> str:
        return f"{self.signed_text()} sig={self.signature}"

    def block(self) -> str:
        """The line between BEGIN and END lines, as the e-mail carries it."""
        return f"{BEGIN}\n{self.line}\n{END}"


def checkpoint_mail(checkpoint: Checkpoint, hotline: str) -> tuple[str, str]:
    """The subject and text of the e-mail that carries ``checkpoint``."""
    made = checkpoint.made_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    subject = (
        f"Audit checkpoint of {checkpoint.installation}: entry {checkpoint.entry_id}, "
        f"{made[:16]} UTC"
    )
    keyed = "none yet" if checkpoint.keyed_from is None else f"entry {checkpoint.keyed_from}"
    text = f"""This is a checkpoint of the audit log of {hotline} (installation \
{checkpoint.installation}), made {made}.

Keep this e-mail where the people who run the database cannot change or
delete it. It records the newest entry of the log at that moment: whoever
checks the log later proves with it that no entry up to that one was
removed, changed or reordered since. Save it as it came (a .eml file) and
run, with this installation's AUDIT_KEY configured:

    flask --app wsgi audit verify --checkpoint checkpoint.eml

Newest entry:         {checkpoint.entry_id}
Entries up to it:     {checkpoint.count}
Its hash:             {checkpoint.entry_hash}
First keyed entry:    {keyed}
Signed under key id:  {checkpoint.key_id}

{checkpoint.block()}
"""
    return subject, text


def installation_id(config: Mapping[str, object]) -> str:
    """AUDIT_INSTALLATION_ID, else HOTLINE_NAME made a slug ("example-hotline");
    ValueError for an id that could not stand in a checkpoint line."""
    configured = str(config.get("AUDIT_INSTALLATION_ID") or "")
    if configured:
        if not _INSTALLATION.fullmatch(configured):
            raise ValueError(
                "AUDIT_INSTALLATION_ID must be 1 to 64 letters, digits, '.', '_' or '-'"
            )
        return configured
    slug = re.sub(r"[^a-z0-9]+", "-", str(config.get("HOTLINE_NAME") or "").lower()).strip("-")
    return slug[:64] or "casemgr"


# --- making one


def take(session: Session, keys: AuditKeys, *, installation: str, now: datetime) -> Checkpoint:
    """The head of the chain now, signed under the current key."""
    columns = AuditEntry.__table__.c
    # One statement, so one snapshot: the head, its place and the first keyed
    # entry agree (appenders commit in id order, under the chain's lock).
    head = session.execute(
        select(
            select(func.max(columns.id)).scalar_subquery().label("entry_id"),
            select(func.count()).select_from(AuditEntry.__table__).scalar_subquery().label("n"),
            select(func.min(columns.id))
            .where(columns.key_id.is_not(None))
            .scalar_subquery()
            .label("keyed_from"),
        )
    ).one()
    entry_hash = GENESIS
    if head.entry_id is not None:  # an entry never changes: reading its hash later is the same
        entry_hash = session.scalar(select(columns.entry_hash).where(columns.id == head.entry_id))
    unsigned = Checkpoint(
        installation=installation,
        made_at=as_utc(now).replace(microsecond=0),
        entry_id=head.entry_id or 0,
        count=head.n,
        entry_hash=entry_hash,
        keyed_from=head.keyed_from,
        key_id=keys.current_id,
    )
    return replace(unsigned, signature=sign(keys.current, unsigned.signed_text().encode()))


def store(session: Session, checkpoint: Checkpoint) -> AuditCheckpoint:
    row = AuditCheckpoint(
        made_at=checkpoint.made_at,
        entry_id=checkpoint.entry_id,
        entry_count=checkpoint.count,
        entry_hash=checkpoint.entry_hash,
        key_id=checkpoint.key_id,
        line=checkpoint.line,
    )
    session.add(row)
    session.flush()
    return row


def latest(session: Session, *, until: datetime | None = None) -> AuditCheckpoint | None:
    """The newest checkpoint (made by ``until``): what a stored monthly report
    carries, and what a backup's manifest should carry too."""
    statement = select(AuditCheckpoint)
    if until is not None:
        statement = statement.where(AuditCheckpoint.made_at <= until)
    return session.scalar(
        statement.order_by(AuditCheckpoint.made_at.desc(), AuditCheckpoint.id.desc()).limit(1)
    )


def stored(session: Session) -> list[AuditCheckpoint]:
    return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))


def append_to_file(path: str, checkpoint: Checkpoint) -> None:
    """One line more in ``path`` (made if missing), on disk before this returns."""
    with open(path, "a", encoding="utf-8") as file:
        file.write(checkpoint.line + "\n")
        file.flush()
        os.fsync(file.fileno())


def file_problem(path: str, database_uri: str) -> str | None:
    """Why AUDIT_CHECKPOINT_FILE may not be ``path``: it is beside the SQLite database
    (whoever copies or restores the database directory would take it along)."""
    if not path or not database_uri.startswith("sqlite:///"):
        return None
    database = database_uri.removeprefix("sqlite:///").split("?")[0]
    if not database or database == ":memory:":
        return None
    folder = Path(database).resolve().parent
    place = Path(path).resolve()
    if place.parent == folder or folder in place.parents:
        return (
            f"AUDIT_CHECKPOINT_FILE {path!r} is inside the database's directory ({folder}): "
            "keep checkpoints where whoever holds the database cannot reach them"
        )
    return None


# --- reading them back


@dataclass(frozen=True)
class Found:
    """A checkpoint read from ``where`` ("line 3 of FILE"), or why it could not be."""

    where: str
    checkpoint: Checkpoint | None = None
    error: str = ""


def read(path: str) -> list[Found]:
    """The checkpoints of a checkpoint file or of a saved e-mail (its body's
    blocks). A file that cannot be read, holds none or holds a broken one
    yields a Found with its ``error``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return [Found(path, error=f"cannot be read: {exc.strerror}")]
    text = data.decode("utf-8", errors="replace")
    if path.lower().endswith(".eml") or _looks_like_mail(text):
        message = email.message_from_bytes(data, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""  # type: ignore[attr-defined]
        where = f"the e-mail {path}"
    else:
        where = path
    found = _blocks(text, where) if BEGIN in text else _lines(text, where)
    return found or [Found(where, error="holds no checkpoint")]


def _looks_like_mail(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    return not first.startswith(PREFIX) and re.match(r"[A-Za-z][A-Za-z0-9-]*: ", first) is not None


def _lines(text: str, where: str) -> list[Found]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        found.append(_parsed(line, f"line {number} of {where}"))
    return found


def _blocks(text: str, where: str) -> list[Found]:
    """Each BEGIN ... END block; mail may have wrapped its line, so the lines
    between are joined."""
    found = []
    lines = [line.strip().lstrip(">").strip() for line in text.splitlines()]
    index, number = 0, 0
    while BEGIN in lines[index:]:
        start = lines.index(BEGIN, index)
        number += 1
        label = f"checkpoint {number} of {where}"
        if END not in lines[start:]:
            found.append(Found(label, error="has no END line: it was cut short"))
            break
        end = lines.index(END, start)
        found.append(_parsed(" ".join(lines[start + 1 : end]), label))
        index = end + 1
    return found


def _parsed(text: str, where: str) -> Found:
    try:
        return Found(where, parse(text))
    except ValueError as exc:
        return Found(where, error=str(exc))


def parse(text: str) -> Checkpoint:
    """The checkpoint of one line; ValueError saying what is wrong with it."""
    parts = text.split()
    if not parts or parts[0] != PREFIX:
        raise ValueError(f"is not a checkpoint (it does not start with {PREFIX})")
    fields: dict[str, str] = {}
    for part in parts[1:]:
        name, equals, value = part.partition("=")
        if not equals or name not in _FIELDS or name in fields:
            raise ValueError(f"cannot be read at {part[:40]!r}: it was edited")
        fields[name] = value
    missing = [name for name in _FIELDS if name not in fields]
    if missing:
        raise ValueError(f"is incomplete (no {', '.join(missing)}): it was cut short or edited")
    if not _HEX64.fullmatch(fields["sig"]) or not _HEX64.fullmatch(fields["hash"]):
        raise ValueError("has a hash or signature that is not 64 hex digits: cut short or edited")
    try:
        return Checkpoint(
            installation=fields["installation"],
            made_at=parse_iso(fields["made"]),
            entry_id=int(fields["entry"]),
            count=int(fields["count"]),
            entry_hash=fields["hash"],
            keyed_from=None if fields["keyed_from"] == "-" else int(fields["keyed_from"]),
            key_id=fields["key"],
            signature=fields["sig"],
        )
    except ValueError:
        raise ValueError("has a field that cannot be read: it was edited") from None


# --- checking one


def signature_problem(checkpoint: Checkpoint, keys: AuditKeys, installation: str) -> str | None:
    """Why ``checkpoint`` is not this installation's, signed under one of its keys."""
    secret = keys.get(checkpoint.key_id)
    valid = secret is not None and hmac.compare_digest(
        sign(secret, checkpoint.signed_text().encode()), checkpoint.signature
    )
    if checkpoint.installation != installation:
        return f"it is from installation {checkpoint.installation!r}; this is {installation!r}" + (
            "" if valid else f" (and it is signed with key id {checkpoint.key_id}, not ours)"
        )
    if secret is None:
        return (
            f"it is signed with key id {checkpoint.key_id}, which is none of "
            f"{keys.describe()}: the configured AUDIT_KEY is wrong, or it was signed elsewhere"
        )
    if not valid:
        return "its signature does not match its fields: it was edited"
    return None


def chain_problem(checkpoint: Checkpoint, verdict: Verdict) -> str | None:
    """Why the log walked in ``verdict`` no longer holds the head ``checkpoint`` names."""
    if checkpoint.count == 0:
        return None
    place = verdict.found.get(checkpoint.entry_id)
    if place is None:
        if checkpoint.entry_id > verdict.last_id:
            end = (
                f"the log ends at entry {verdict.last_id} with {verdict.count}"
                if verdict.count
                else "the log is empty"
            )
            return (
                f"it names entry {checkpoint.entry_id} with {checkpoint.count} entries up to "
                f"it, but {end}: the entries after entry {verdict.last_id}, up to entry "
                f"{checkpoint.entry_id}, were removed (the first missing is entry "
                f"{verdict.last_id + 1})"
            )
        return f"entry {checkpoint.entry_id}, which it names, is missing from the log"
    position, entry_hash = place
    if entry_hash != checkpoint.entry_hash:
        return (
            f"entry {checkpoint.entry_id} has changed: its hash is {entry_hash[:16]}..., "
            f"the checkpoint's {checkpoint.entry_hash[:16]}..."
        )
    if position != checkpoint.count:
        return (
            f"entry {checkpoint.entry_id} is entry number {position} of the log, but the "
            f"checkpoint counted {checkpoint.count} up to it: entries before it were "
            + ("removed" if position < checkpoint.count else "inserted")
        )
    return None

"""The hash chain of the audit log: how an entry's hash is made, how entries
are appended without forking the chain (the walk that verifies it is
:mod:`casemgr.audit.verification`).

The document of an entry is the canonical JSON (keys sorted, no spaces,
UTF-8) of ``{"action", "actor_id", "created_at" (ISO 8601, UTC), "details",
"prev_hash", "target_id", "target_type"}``; the first entry's ``prev_hash``
is 64 zeros.

- A *keyed* entry (``key_id`` set: every entry written since AUDIT_KEY
  exists) has ``"key_id"`` in its document too, and its hash is the
  HMAC-SHA256 of the document under the key of that id
  (:mod:`casemgr.audit.keys`). Nobody without the key can make one, so
  nobody with only the database can rewrite an entry and its successors.
- A *plain* entry (``key_id`` NULL: written before there was a key) has the
  SHA-256 of its document. Migration 0003 holds a copy of this function
  (migrations never import application code): change both or neither.

The first keyed entry after plain ones is the switch-over (``audit.keyed``);
an entry under a new key follows a rotation entry (``audit.key_rotated``)
whose details carry a proof under the previous key. Both are written here,
by the first append that finds the head of the chain plain or under
another key, before the entries queued.

Appending: ``record()`` does not insert; it queues the entry on the session.
When the session commits, just before COMMIT and in the same transaction,
the queued entries are chained and inserted under a lock that serialises
every appender (``pg_advisory_xact_lock`` on PostgreSQL; on SQLite a write
that takes the database's write lock). Taking the lock last means a
transaction holding it waits for nothing else, so it cannot deadlock with a
transaction that holds row locks (a case being worked) and waits for it.
Releasing a SAVEPOINT appends nothing; an entry queued inside a SAVEPOINT
that is rolled back is dropped with what it recorded (the bulk actions act
on each case in a savepoint of its own).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from casemgr.audit.keys import AuditKeys, sign
from casemgr.audit.models import AuditEntry
from casemgr.clock import as_utc

GENESIS = "0" * 64
# pg_advisory_xact_lock key: "casemgr audit" as a number (any constant will do).
ADVISORY_LOCK_KEY = 0x636D_6175_6469_74
_QUEUE = "casemgr.audit.pending"
SWITCH_OVER = "audit.keyed"
ROTATION = "audit.key_rotated"

log = logging.getLogger("casemgr.audit")


def canonical(value: Any) -> Any:
    """``value`` as it reads back from a JSON column (tuples are lists, keys text)."""
    return json.loads(json.dumps(value, default=str))


def _document(
    *,
    created_at: datetime,
    actor_id: int | None,
    action: str,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any],
    prev_hash: str,
    key_id: str | None = None,
) -> bytes:
    document = {
        "action": action,
        "actor_id": actor_id,
        "created_at": as_utc(created_at).isoformat(),
        "details": details,
        "prev_hash": prev_hash,
        "target_id": target_id,
        "target_type": target_type,
    }
    if key_id is not None:
        document["key_id"] = key_id
    data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return data.encode("utf-8")


def entry_hash(**fields: Any) -> str:
    """The plain hash: SHA-256 of the document (entries made before the key)."""
    return hashlib.sha256(_document(**fields)).hexdigest()


def keyed_hash(secret: bytes, *, key_id: str, **fields: Any) -> str:
    """The keyed hash: HMAC-SHA256 of the document (with its key id) under ``secret``."""
    return sign(secret, _document(key_id=key_id, **fields))


def hash_of(entry: AuditEntry | Any, keys: AuditKeys) -> str | None:
    """The hash ``entry`` (a model or a row with the same names) should carry;
    None for an entry keyed under a key that ``keys`` does not hold."""
    fields = {
        "created_at": entry.created_at,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    if entry.key_id is None:
        return entry_hash(**fields)
    secret = keys.get(entry.key_id)
    if secret is None:
        return None
    return keyed_hash(secret, key_id=entry.key_id, **fields)


def rotation_proof(secret: bytes, *, prev_hash: str, old_id: str, new_id: str) -> str:
    """What the previous key vouches for when the chain moves to a new key: at
    this point of the chain (``prev_hash``), key ``new_id`` follows ``old_id``."""
    return sign(secret, f"casemgr audit key rotation\n{prev_hash}\n{old_id}\n{new_id}".encode())


def current_keys() -> AuditKeys:
    """The application's audit keys (set up by ``create_app``)."""
    return current_app.extensions["casemgr.audit_keys"]


# --- appending


def queue(session: Session, entry: AuditEntry) -> None:
    """Append ``entry`` when ``session`` commits (and never if it rolls back)."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        session.connection()  # begin it now: its end (commit or rollback) settles the queue
    # With the savepoint it was queued in (None outside one), to drop it if that rolls back.
    session.info.setdefault(_QUEUE, []).append((entry, session.get_nested_transaction()))


def pending(session: Session) -> list[AuditEntry]:
    return [entry for entry, _ in session.info.get(_QUEUE, ())]


def lock_chain(session: Session) -> None:
    """Serialise appenders until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    else:
        # SQLite: a write statement takes the database's write lock (waiting for
        # it up to busy_timeout) and makes this transaction read the newest data.
        # It changes no row, so the table's UPDATE trigger does not fire.
        session.execute(text("UPDATE audit_log SET id = id WHERE 0"))


def head(session: Session) -> Any:
    """The newest entry's id, hash and key id (a row), or None for an empty log."""
    return session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash, AuditEntry.key_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()


def last_hash(session: Session) -> str:
    found = head(session)
    return found.entry_hash if found is not None else GENESIS


def _marker(newest: Any, keys: AuditKeys, now: datetime) -> AuditEntry | None:
    """The switch-over or rotation entry that must come before new entries, if any."""
    if newest is None or newest.key_id == keys.current_id:
        return None
    if newest.key_id is None:
        action = SWITCH_OVER
        details: dict[str, Any] = {"key_id": keys.current_id, "last_plain_entry": newest.id}
    else:
        action = ROTATION
        old = keys.get(newest.key_id)
        proof = None
        if old is None:
            log.error(
                "the audit log's newest entry is keyed under key id %s, which is not among "
                "AUDIT_PREVIOUS_KEYS: the move to key id %s is recorded without proof and "
                "`audit verify` will report it",
                newest.key_id,
                keys.current_id,
            )
        else:
            proof = rotation_proof(
                old, prev_hash=newest.entry_hash, old_id=newest.key_id, new_id=keys.current_id
            )
        details = {
            "from_key_id": newest.key_id,
            "to_key_id": keys.current_id,
            "previous_key_proof": proof,
        }
    return AuditEntry(created_at=now, action=action, details=details)


@event.listens_for(Session, "before_commit")
def _append_queued(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy sends before_commit then too): not yet
    entries = [entry for entry, _ in session.info.pop(_QUEUE, ())]
    if not entries:
        return
    keys = current_keys()
    session.flush()  # the changes the entries record take their row locks first
    lock_chain(session)
    newest = head(session)
    marker = _marker(newest, keys, entries[0].created_at)
    if marker is not None:
        entries.insert(0, marker)
    previous = newest.entry_hash if newest is not None else GENESIS
    for entry in entries:
        entry.prev_hash = previous
        entry.key_id = keys.current_id
        entry.entry_hash = previous = keyed_hash(
            keys.current,
            key_id=keys.current_id,
            created_at=entry.created_at,
            actor_id=entry.actor_id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        session.add(entry)
    session.flush()


@event.listens_for(Session, "after_transaction_end")
def _forget_queued(session: Session, transaction) -> None:
    # After a commit the queue is empty already; after a rollback (or a close
    # without commit) what was queued never happened.
    if transaction.parent is None:
        session.info.pop(_QUEUE, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    """A savepoint rolled back: what was queued inside it (or inside a savepoint
    within it) never happened."""
    queued = session.info.get(_QUEUE)
    if transaction.nested and queued:
        session.info[_QUEUE] = [
            (entry, savepoint) for entry, savepoint in queued if not _inside(savepoint, transaction)
        ]


def _inside(savepoint: SessionTransaction | None, transaction: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is transaction:
            return True
        savepoint = savepoint.parent
    return False

"""The hash chain of the audit log: how an entry's hash is made, how entries
are appended without forking the chain, and how the chain is verified.

hash = SHA-256 of the canonical JSON (keys sorted, no spaces, UTF-8) of
``{"action", "actor_id", "created_at" (ISO 8601, UTC), "details",
"prev_hash", "target_id", "target_type"}``; the first entry's ``prev_hash``
is 64 zeros. Migration 0003 holds a copy of this function (migrations never
import application code): change both or neither.

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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from casemgr.audit.models import AuditEntry
from casemgr.clock import as_utc

GENESIS = "0" * 64
# pg_advisory_xact_lock key: "casemgr audit" as a number (any constant will do).
ADVISORY_LOCK_KEY = 0x636D_6175_6469_74
_QUEUE = "casemgr.audit.pending"


def canonical(value: Any) -> Any:
    """``value`` as it reads back from a JSON column (tuples are lists, keys text)."""
    return json.loads(json.dumps(value, default=str))


def entry_hash(
    *,
    created_at: datetime,
    actor_id: int | None,
    action: str,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    document = {
        "action": action,
        "actor_id": actor_id,
        "created_at": as_utc(created_at).isoformat(),
        "details": details,
        "prev_hash": prev_hash,
        "target_id": target_id,
        "target_type": target_type,
    }
    data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def hash_of(entry: AuditEntry | Any) -> str:
    """The hash ``entry`` (a model or a row with the same names) should carry."""
    return entry_hash(
        created_at=entry.created_at,
        actor_id=entry.actor_id,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )


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


def last_hash(session: Session) -> str:
    found = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    return found or GENESIS


@event.listens_for(Session, "before_commit")
def _append_queued(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy sends before_commit then too): not yet
    entries = [entry for entry, _ in session.info.pop(_QUEUE, ())]
    if not entries:
        return
    session.flush()  # the changes the entries record take their row locks first
    lock_chain(session)
    previous = last_hash(session)
    for entry in entries:
        entry.prev_hash = previous
        entry.entry_hash = previous = hash_of(entry)
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


# --- verifying


@dataclass
class Verdict:
    count: int
    broken_id: int | None = None
    reason: str = ""
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(session: Session, *, batch: int = 1000) -> Verdict:
    """Walk the chain in id order; the first entry whose link or hash is wrong."""
    previous = GENESIS
    count = 0
    for entry in _entries(session, batch):
        count += 1
        if entry.prev_hash != previous:
            return Verdict(
                count,
                entry.id,
                "its prev_hash is not the hash of the entry before it "
                "(an entry before it was removed, or this one was inserted or changed)",
            )
        if hash_of(entry) != entry.entry_hash:
            return Verdict(count, entry.id, "its fields do not match its hash (it was changed)")
        previous = entry.entry_hash
    return Verdict(count, last_hash=previous)


def _entries(session: Session, batch: int) -> Iterator[Any]:
    """Rows (not model objects: nothing is added to the session), in id order."""
    columns = AuditEntry.__table__.c
    after = 0
    while True:
        rows = session.execute(
            select(columns).where(columns.id > after).order_by(columns.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id

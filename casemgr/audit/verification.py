"""Walking the audit log's chain: every link, every hash, the switch-over to
keyed entries and every change of key (see :mod:`casemgr.audit.chain`).

The walk alone cannot see entries removed from the end of the log, nor a
log rewritten whole with plain hashes: checkpoints kept outside the
database can (:mod:`casemgr.audit.checkpoints`); the walk notes where the
entries they name stand.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.audit.chain import GENESIS, ROTATION, SWITCH_OVER, hash_of, rotation_proof
from casemgr.audit.keys import AuditKeys
from casemgr.audit.models import AuditEntry


@dataclass
class Verdict:
    count: int
    broken_id: int | None = None
    reason: str = ""
    last_hash: str = GENESIS
    last_id: int = 0
    keyed_from: int | None = None  # the first keyed entry
    plain: int = 0  # entries with plain hashes (those before the switch-over)
    unknown_key: str | None = None  # the key id of the broken entry, when it is none of ours
    key_ids: list[str] = field(default_factory=list)  # in the order the chain used them
    # Entries asked for (by id): their place in the chain (1 = the first) and hash.
    found: dict[int, tuple[int, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(
    session: Session,
    keys: AuditKeys,
    *,
    entries: Collection[int] = (),
    keyed_from: int | None = None,
    batch: int = 1000,
) -> Verdict:
    """Walk the chain in id order; stop at the first entry whose link, hash or
    key is wrong. ``entries``: ids whose place and hash to note (a checkpoint's
    head); ``keyed_from``: the first keyed entry as a checkpoint recorded it
    (every entry from it on must be keyed)."""
    wanted = set(entries)
    verdict = Verdict(0)
    previous, previous_id, key = GENESIS, 0, None
    for entry in _entries(session, batch):
        verdict.count += 1
        if entry.id in wanted:
            verdict.found[entry.id] = (verdict.count, entry.entry_hash)
        problem = _link_problem(session, entry, previous, previous_id)
        if problem is None and entry.key_id is None:
            verdict.plain += 1
            problem = _plain_problem(entry, keys, verdict.keyed_from or keyed_from)
        elif problem is None:
            problem = _keyed_problem(entry, keys, verdict, previous_id, key)
            if verdict.keyed_from is None:
                verdict.keyed_from = entry.id
            if key != entry.key_id:
                verdict.key_ids.append(entry.key_id)
            key = entry.key_id
        if problem is not None:
            verdict.broken_id, verdict.reason = entry.id, problem
            if entry.key_id is not None and keys.get(entry.key_id) is None:
                verdict.unknown_key = entry.key_id
            return verdict
        previous, previous_id = entry.entry_hash, entry.id
    verdict.last_hash, verdict.last_id = previous, previous_id
    return verdict


def _link_problem(session: Session, entry: Any, previous: str, previous_id: int) -> str | None:
    if entry.prev_hash == previous:
        return None
    before = f"entry {previous_id}" if previous_id else "the start of the log"
    follows = session.scalar(
        select(AuditEntry.id).where(AuditEntry.entry_hash == entry.prev_hash).limit(1)
    )
    if follows is not None and follows > entry.id:
        return (
            f"its prev_hash is the hash of entry {follows}, which comes after it: "
            "entries were reordered"
        )
    return (
        f"its prev_hash is not the hash of {before} before it "
        f"(an entry between them was removed, or {before} or this one was changed)"
    )


def _plain_problem(entry: Any, keys: AuditKeys, keyed_from: int | None) -> str | None:
    if keyed_from is not None and entry.id >= keyed_from:
        return (
            f"it carries a plain SHA-256 hash, but the log is keyed from entry {keyed_from} "
            "on: it was rewritten (with its successors) by someone without the audit key"
        )
    if hash_of(entry, keys) != entry.entry_hash:
        return "its fields do not match its hash (it was changed)"
    return None


def _keyed_problem(
    entry: Any, keys: AuditKeys, verdict: Verdict, previous_id: int, key: str | None
) -> str | None:
    expected = hash_of(entry, keys)
    if expected is None:
        return (
            f"it is keyed under key id {entry.key_id}, which is none of {keys.describe()}: "
            "the configured AUDIT_KEY is wrong, or the log was replaced by one made "
            "under another key"
        )
    if not hmac.compare_digest(expected, entry.entry_hash):
        return "its fields do not match its keyed hash (it was changed)"
    if verdict.keyed_from is None and previous_id and entry.action != SWITCH_OVER:
        return (
            f"the plain entries end at entry {previous_id} without a switch-over entry "
            f"({SWITCH_OVER}) before this keyed one"
        )
    if key is not None and key != entry.key_id:
        return _rotation_problem(entry, keys, key)
    return None


def _rotation_problem(entry: Any, keys: AuditKeys, old_id: str) -> str | None:
    details = entry.details or {}
    if entry.action != ROTATION or details.get("from_key_id") != old_id:
        return f"the key changes from {old_id} to {entry.key_id} without a rotation entry"
    old = keys.get(old_id)
    if old is None:  # cannot happen: the entries before were checked under it
        return f"key id {old_id} is not configured"
    proof = rotation_proof(old, prev_hash=entry.prev_hash, old_id=old_id, new_id=entry.key_id)
    if not hmac.compare_digest(proof, str(details.get("previous_key_proof") or "")):
        return (
            f"the move from key id {old_id} to {entry.key_id} carries no valid proof under "
            f"{old_id} (AUDIT_PREVIOUS_KEYS lacked it when the move was written, or it was "
            "forged)"
        )
    return None


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

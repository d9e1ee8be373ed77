"""Builders shared by the audit tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casemgr import context
from casemgr.audit import chain
from casemgr.audit.models import AuditEntry
from casemgr.audit.services import record
from casemgr.extensions import db
from tests.conftest import audit_log_unguarded


def write(count: int, action: str = "test.event") -> None:
    for number in range(count):
        record(
            db.session,
            action=action,
            now=context.now(),
            actor_id=None,
            target_type="thing",
            target_id=number,
            details={"n": number, "text": "ក្រុម", "nested": {"b": [1, 2], "a": None}},
        )
        db.session.commit()


def write_plain(count: int) -> None:
    """``count`` entries as an installation made them before it had an audit key:
    plain SHA-256 hashes, no key id (the rows migration 0003 left)."""
    table = AuditEntry.__table__
    with db.engine.begin() as connection:
        previous = connection.scalar(
            sa.select(table.c.entry_hash).order_by(table.c.id.desc()).limit(1)
        )
        previous = previous or chain.GENESIS
        for number in range(count):
            fields = {
                "created_at": context.now(),
                "actor_id": None,
                "action": "test.legacy",
                "target_type": "thing",
                "target_id": str(number),
                "details": {"n": number},
                "prev_hash": previous,
            }
            previous = chain.entry_hash(**fields)
            connection.execute(table.insert().values(**fields, entry_hash=previous, key_id=None))


def tamper(sql: str, **params) -> None:
    """Run ``sql`` as a database superuser would: the append-only triggers off."""
    with db.engine.begin() as connection, audit_log_unguarded(connection):
        connection.execute(sa.text(sql), params)
    db.session.expire_all()


def rechain(
    first_id: int,
    *,
    last_id: int | None = None,
    key: tuple[bytes, str] | None = None,
    change: dict[str, Any] | None = None,
) -> None:
    """Rewrite the log from entry ``first_id`` on as a forger would: apply
    ``change`` to that entry, then recompute its hash and every later one,
    plain SHA-256 (``key`` None, key ids dropped) or under ``key`` (secret, id),
    up to entry ``last_id`` (the last one) included."""
    table = AuditEntry.__table__
    with db.engine.begin() as connection, audit_log_unguarded(connection):
        rows = connection.execute(sa.select(table).order_by(table.c.id)).mappings().all()
        previous = chain.GENESIS
        for row in rows:
            if row["id"] < first_id or (last_id is not None and row["id"] > last_id):
                previous = row["entry_hash"]
                continue
            fields = {
                name: row[name]
                for name in ("created_at", "actor_id", "action", "target_type", "target_id")
            }
            fields["details"] = row["details"]
            if row["id"] == first_id and change:
                fields.update(change)
            fields["prev_hash"] = previous
            if key is None:
                previous, key_id = chain.entry_hash(**fields), None
            else:
                previous, key_id = chain.keyed_hash(key[0], key_id=key[1], **fields), key[1]
            connection.execute(
                table.update()
                .where(table.c.id == row["id"])
                .values(**fields, entry_hash=previous, key_id=key_id)
            )
    db.session.expire_all()


def swap(first_id: int, second_id: int) -> None:
    """Reorder two entries: each takes the other's place (id)."""
    tamper("UPDATE audit_log SET id = -1 WHERE id = :a", a=first_id)
    tamper("UPDATE audit_log SET id = :a WHERE id = :b", a=first_id, b=second_id)
    tamper("UPDATE audit_log SET id = :b WHERE id = -1", b=second_id)

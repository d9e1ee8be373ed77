"""Builders shared by the audit tests."""

from __future__ import annotations

from casemgr import context
from casemgr.audit.services import record
from casemgr.extensions import db


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

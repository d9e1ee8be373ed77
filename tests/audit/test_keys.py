"""Keyed entries: the switch-over after plain ones, key rotation proven in the
chain, and what `audit verify` says of each."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr.audit import chain, verification
from casemgr.audit.keys import AuditKeys, key_id
from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from tests.audit.helpers import rechain, tamper, write, write_plain

NEW_KEY = "the-next-audit-key-the-next-audit-key-0001"


def entries() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def use_keys(app, keys: AuditKeys) -> None:
    app.extensions["casemgr.audit_keys"] = keys


def test_a_key_id_names_the_key_without_showing_it(app):
    keys = chain.current_keys()
    assert len(keys.current_id) == 12 and keys.current_id == key_id(
        app.config["AUDIT_KEY"].encode()
    )
    assert app.config["AUDIT_KEY"] not in keys.describe() and keys.current_id in keys.describe()
    assert key_id(NEW_KEY.encode()) != keys.current_id


def test_a_new_log_is_keyed_from_its_first_entry(runner):
    write(2)
    assert [entry.action for entry in entries()] == ["test.event", "test.event"]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"OK: 2 entries (keyed from entry 1 under key id {chain.current_keys().current_id})"
    )
    assert "No checkpoint to check against" in result.output


def test_plain_entries_are_followed_by_a_switch_over(runner):
    write_plain(2)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "OK: 2 entries (plain hashes: none keyed yet)" in result.output
    write(1)
    first, second, switch_over, keyed = entries()
    assert first.key_id is None and second.key_id is None
    assert switch_over.action == chain.SWITCH_OVER and switch_over.prev_hash == second.entry_hash
    assert switch_over.key_id == keyed.key_id == chain.current_keys().current_id
    assert keyed.prev_hash == switch_over.entry_hash
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK: 4 entries (2 plain, then keyed from entry 3 under key id" in result.output


def test_a_keyed_entry_right_after_plain_ones_needs_the_switch_over(app):
    """Even rechained with the key, a log without its switch-over entry is named."""
    write_plain(2)
    write(2)
    tamper("DELETE FROM audit_log WHERE id = 3")
    keys = chain.current_keys()
    rechain(4, key=(keys.current, keys.current_id))
    verdict = verification.verify(db.session, keys)
    assert verdict.broken_id == 4
    assert verdict.reason.startswith("the plain entries end at entry 2 without a switch-over")


def test_rotation_is_recorded_with_a_proof_under_the_old_key(app, runner):
    old = chain.current_keys()
    write(2)
    use_keys(app, AuditKeys.of(NEW_KEY, [app.config["AUDIT_KEY"]]))
    write(1)
    rotation, keyed = entries()[2:]
    new_id = key_id(NEW_KEY.encode())
    assert rotation.action == chain.ROTATION and rotation.key_id == keyed.key_id == new_id
    assert rotation.details["from_key_id"] == old.current_id
    assert rotation.details["to_key_id"] == new_id
    assert rotation.details["previous_key_proof"] == chain.rotation_proof(
        old.current, prev_hash=rotation.prev_hash, old_id=old.current_id, new_id=new_id
    )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"keyed from entry 1 under key id {old.current_id}, then {new_id}" in result.output

    # The old key forgotten: what was made under it can no longer be checked.
    use_keys(app, AuditKeys.of(NEW_KEY))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at audit entry 1 (entry 1 of the chain): it is keyed under key id " in (
        result.output
    )


def test_a_rotation_without_the_old_key_is_written_but_reported(app, caplog):
    write(1)
    old_id = chain.current_keys().current_id
    use_keys(app, AuditKeys.of(NEW_KEY))
    write(1)
    rotation = entries()[1]
    assert rotation.action == chain.ROTATION and rotation.details["previous_key_proof"] is None
    assert "recorded without proof" in caplog.text
    use_keys(app, AuditKeys.of(NEW_KEY, [app.config["AUDIT_KEY"]]))
    verdict = verification.verify(db.session, chain.current_keys())
    assert verdict.broken_id == 2
    assert verdict.reason.startswith(f"the move from key id {old_id} to ")


@pytest.mark.parametrize("forged_action", ["test.event", chain.ROTATION])
def test_a_change_of_key_without_a_valid_rotation_entry_breaks(app, forged_action):
    """Someone holding a second key but not the first cannot continue the chain."""
    write(3)
    new = AuditKeys.of(NEW_KEY)
    rechain(3, key=(new.current, new.current_id), change={"action": forged_action})
    use_keys(app, AuditKeys.of(NEW_KEY, [app.config["AUDIT_KEY"]]))
    verdict = verification.verify(db.session, chain.current_keys())
    assert verdict.broken_id == 3
    assert "without a rotation entry" in verdict.reason or "no valid proof" in verdict.reason


def test_keys_audit_prints_a_new_key_each_time(runner):
    first = runner.invoke(args=["keys", "audit"])
    second = runner.invoke(args=["keys", "audit"])
    assert first.exit_code == 0 and len(first.output.strip()) >= 32
    assert first.output != second.output
    AuditKeys.of(first.output.strip())  # usable as it is

"""Someone with the database (its superuser: the triggers off) tampers with the
audit log; `audit verify --checkpoint` names what they did, on every backend.

The log of each test: 3 plain entries (made before the installation had an
audit key), the switch-over (entry 4), 6 keyed entries (5-10), a checkpoint
of that head (entry 10, 10 entries) written to the checkpoint file by the
job, whose own entry is 11, and 2 entries more (12, 13).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from casemgr import context, create_app
from casemgr.audit import chain, checkpoints
from casemgr.audit.keys import AuditKeys
from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from tests.audit.helpers import rechain, swap, tamper, write, write_plain

OTHER_KEY = "another-installations-audit-key-0123456789"


@pytest.fixture
def checkpoint_file(tmp_path) -> Path:
    return tmp_path / "outside" / "audit-checkpoints.txt"


@pytest.fixture
def app_config(checkpoint_file) -> dict:
    checkpoint_file.parent.mkdir()
    return {"AUDIT_CHECKPOINT_FILE": str(checkpoint_file)}


@pytest.fixture
def history(app, runner, clock, checkpoint_file) -> Path:
    write_plain(3)
    write(6)
    clock.advance(hours=1)
    result = runner.invoke(args=["jobs", "run", "audit_checkpoint"])
    assert result.exit_code == 0, result.output
    assert "entry 10 of 10" in result.output and "appended to" in result.output
    write(2)
    return checkpoint_file


def verify(runner, *files) -> tuple[int, str]:
    args = ["audit", "verify"]
    for path in files:
        args += ["--checkpoint", str(path)]
    result = runner.invoke(args=args)
    return result.exit_code, result.output


def test_the_untouched_log_verifies_against_its_checkpoint(runner, history):
    keys = chain.current_keys()
    code, output = verify(runner, history)
    assert code == 0, output
    assert output.startswith(
        f"OK: 13 entries (3 plain, then keyed from entry 4 under key id {keys.current_id})"
    )
    assert f"Checked against 1 checkpoint from {history}" in output
    switch_over = db.session.get(AuditEntry, 4)
    assert switch_over.action == chain.SWITCH_OVER
    assert switch_over.details == {"key_id": keys.current_id, "last_plain_entry": 3}


def test_without_checkpoint_it_uses_the_configured_file_and_the_stored_ones(runner, history):
    code, output = verify(runner)
    assert code == 0, output
    assert f"Checked against 2 checkpoints from {history}, the database" in output


def test_truncated_tail(runner, history):
    tamper("DELETE FROM audit_log WHERE id >= 8")
    code, output = verify(runner, history)
    assert code == 1
    assert (
        f"CHECKPOINT line 1 of {history} (made 2026-11-28T10:00:00Z): it names entry 10 with "
        "10 entries up to it, but the log ends at entry 7 with 7: the entries after entry 7, "
        "up to entry 10, were removed (the first missing is entry 8)." in output
    )
    # Without --checkpoint too (the issue's `OK: 127 entries`): the file is read.
    code, output = verify(runner)
    assert code == 1 and "the first missing is entry 8" in output


def test_one_entry_rewritten_and_every_later_hash_recomputed_plain(runner, history):
    rechain(6, change={"action": "test.innocent"})
    code, output = verify(runner, history)
    assert code == 1
    assert (
        "BROKEN at audit entry 6 (entry 6 of the chain): it carries a plain SHA-256 hash, "
        "but the log is keyed from entry 4 on" in output
    )


def test_the_whole_log_rewritten_plain_is_caught_by_the_checkpoint(runner, history):
    """Every entry plain, the switch-over kept as a plain entry: the walk alone
    finds a consistent plain chain; the checkpoint says it was keyed from 4."""
    rechain(1, change={"details": {"n": 99}})
    assert verify(runner)[0] == 1  # the stored and filed checkpoints
    code, output = verify(runner, history)
    assert code == 1
    assert "BROKEN at audit entry 4 " in output and "keyed from entry 4 on" in output


def test_a_plain_entry_rewritten_breaks_the_switch_over(runner, history):
    """Before the switch-over the forger can recompute plain hashes, up to the
    switch-over entry, whose keyed hash holds the old link."""
    rechain(2, last_id=3, change={"action": "test.innocent"})
    code, output = verify(runner, history)
    assert code == 1
    assert (
        "BROKEN at audit entry 4 (entry 4 of the chain): its prev_hash is not the hash of "
        "entry 3 before it" in output
    )


def test_two_entries_reordered(runner, history):
    swap(6, 7)
    code, output = verify(runner, history)
    assert code == 1
    assert (
        "BROKEN at audit entry 6 (entry 6 of the chain): its prev_hash is the hash of entry 7, "
        "which comes after it: entries were reordered" in output
    )


def test_the_whole_table_replaced_by_a_chain_under_another_key(runner, history):
    other = AuditKeys.of(OTHER_KEY)
    rechain(1, key=(other.current, other.current_id))
    code, output = verify(runner, history)
    assert code == 1
    assert (
        f"BROKEN at audit entry 1 (entry 1 of the chain): it is keyed under key id "
        f"{other.current_id}, which is none of AUDIT_KEY" in output
    )
    assert "The checkpoints verify under AUDIT_KEY: the log itself was replaced." in output


def _verify_with(app_settings: dict, database_uri: str, *files) -> tuple[int, str]:
    other_app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_uri, **app_settings}
    )
    with other_app.app_context():
        try:
            return verify(other_app.test_cli_runner(), *files)
        finally:
            db.session.remove()
            db.engine.dispose()


def test_the_wrong_audit_key(app, history):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    wrong = AuditKeys.of(OTHER_KEY)
    code, output = _verify_with({"AUDIT_KEY": OTHER_KEY}, uri, history)
    assert code == 1
    ours = chain.current_keys().current_id
    assert (
        f"CHECKPOINT line 1 of {history}: it is signed with key id {ours}"
        f", which is none of AUDIT_KEY (key id {wrong.current_id}): the configured AUDIT_KEY is "
        "wrong" in output
    )
    assert "BROKEN at audit entry 4 " in output


def test_the_right_key_among_the_previous_ones_verifies(app, history):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    settings = {"AUDIT_KEY": OTHER_KEY, "AUDIT_PREVIOUS_KEYS": [app.config["AUDIT_KEY"]]}
    code, output = _verify_with(settings, uri, history)
    assert code == 0, output


def test_a_missing_audit_key_stops_verify_in_production(app, tmp_path):
    """`flask --app wsgi audit verify` as an installation runs it, without AUDIT_KEY."""
    root = Path(__file__).resolve().parents[2]
    environment = {
        **os.environ,
        "CASEMGR_ENV": "production",
        "CASEMGR_SECRET_KEY": "a-long-random-value-for-this-test",
        "CASEMGR_CONTACT_ENCRYPTION_KEY": app.config["CONTACT_ENCRYPTION_KEY"],
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    environment.pop("CASEMGR_AUDIT_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "AUDIT_KEY is not set" in done.stderr


# --- the checkpoint file itself


def test_a_checkpoint_file_cut_short(runner, history):
    text = history.read_text()
    history.write_text(text[: text.index(" key=")])
    code, output = verify(runner, history)
    assert code == 1
    assert (
        f"CHECKPOINT line 1 of {history}: is incomplete (no key, sig): it was cut short or "
        "edited." in output
    )


def test_an_edited_checkpoint_file(runner, history):
    history.write_text(history.read_text().replace(" count=10 ", " count=9 "))
    code, output = verify(runner, history)
    assert code == 1
    assert (
        f"CHECKPOINT line 1 of {history}: its signature does not match its fields: "
        "it was edited." in output
    )


def test_a_checkpoint_signed_with_another_key(app, runner, history):
    other = AuditKeys.of(OTHER_KEY)
    forged = checkpoints.take(
        db.session, other, installation=checkpoints.installation_id(app.config), now=context.now()
    )
    db.session.rollback()
    history.write_text(history.read_text() + forged.line + "\n")
    code, output = verify(runner, history)
    assert code == 1
    assert (
        f"CHECKPOINT line 2 of {history}: it is signed with key id {other.current_id}, which is "
        "none of AUDIT_KEY" in output
    )


def test_a_checkpoint_from_another_installation(runner, history):
    other = AuditKeys.of(OTHER_KEY)
    theirs = checkpoints.take(db.session, other, installation="other-hotline", now=context.now())
    db.session.rollback()
    history.write_text(theirs.line + "\n")
    code, output = verify(runner, history)
    assert code == 1
    assert (
        f"CHECKPOINT line 1 of {history}: it is from installation 'other-hotline'; this is "
        f"'example-hotline' (and it is signed with key id {other.current_id}, not ours)." in output
    )


def test_a_file_that_holds_no_checkpoint(runner, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    code, output = verify(runner, empty, tmp_path / "absent.txt")
    assert code == 1
    assert f"CHECKPOINT {empty}: holds no checkpoint." in output
    assert f"CHECKPOINT {tmp_path / 'absent.txt'}: cannot be read: No such file" in output


def test_an_emptied_log(runner, history):
    tamper("DELETE FROM audit_log")
    code, output = verify(runner, history)
    assert code == 1
    assert "it names entry 10 with 10 entries up to it, but the log is empty" in output

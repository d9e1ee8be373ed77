"""db backup and db restore: a round trip on each engine gives back every table as it
was, the audit log verifies, and the manifest describes what was written."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from casemgr.audit import checkpoints
from casemgr.audit.models import AuditEntry
from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.ops.backup_manifest import hash_file
from tests.ops.backup_helpers import (
    dump_of,
    filled_with_work,
    head_revision,
    source_url,
    table_digests,
)


def test_backup_and_restore_give_back_every_table(
    app, backend, runner, make, tmp_path, empty_target, on_target
):
    filled_with_work(runner, make)
    before = table_digests(source_url(app))
    assert before["cases"][0] > 70 and before["notices"][0] >= 2 and before["audit_log"][0] > 100

    backup = tmp_path / "backup"
    made = runner.invoke(args=["db", "backup", str(backup), "--now", "2026-11-28T09:30Z"])
    assert made.exit_code == 0, made.output
    assert "stored notice letters and monthly reports" in made.output
    assert "does not hold CONTACT_ENCRYPTION_KEY nor AUDIT_KEY" in made.output
    # The backup is audited after it is made (so the entry is not in it).
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "db.backup" and entry.target_id == "backup"

    manifest = json.loads((backup / "manifest.json").read_text())
    dump = dump_of(backup)
    assert manifest["engine"] == backend
    assert manifest["schema_revision"] == head_revision()
    assert manifest["created_at"] == "2026-11-28T09:30:00+00:00"
    assert manifest["casemgr_version"]
    assert manifest["files"] == [
        {"name": dump.name, "size": dump.stat().st_size, "sha256": hash_file(dump)}
    ]
    assert manifest["tables"] == {name: count for name, (count, _) in before.items()}
    assert entry.details["sha256"] == hash_file(dump)
    assert manifest["audit_checkpoint"] == checkpoints.latest(db.session).line

    restored = on_target(empty_target, "db", "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert "every table as counted in the manifest" in restored.output
    assert f"newest audit checkpoint in the backup: {manifest['audit_checkpoint']}" in (
        restored.output
    )
    assert table_digests(empty_target) == before

    verified = on_target(empty_target, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith(f"OK: {before['audit_log'][0]} entries")

    # The restored database works as the app's: a request and a new audit entry.
    upgrade = on_target(empty_target, "db", "upgrade")
    assert upgrade.exit_code == 0, upgrade.output
    again = on_target(empty_target, "jobs", "run", "audit_checkpoint", "--now", "2026-11-28T10:00Z")
    assert again.exit_code == 0, again.output
    assert on_target(empty_target, "audit", "verify").exit_code == 0


def test_flask_migrate_commands_stay_in_the_db_group(runner):
    listing = runner.invoke(args=["db", "--help"])
    assert listing.exit_code == 0
    for command in ("upgrade", "downgrade", "migrate", "current", "backup", "restore"):
        assert f"  {command} " in listing.output


def test_a_backup_taken_while_the_app_writes_is_one_moment(
    app, backend, runner, make, tmp_path, empty_target, on_target
):
    """Writers go on during the backup; what is restored is a whole moment: the
    counts the manifest took, and an audit chain that verifies."""
    filled_with_work(runner, make)
    stop = threading.Event()
    written = []

    def write_cases() -> None:
        with app.app_context():
            while not stop.is_set():
                make.case("triage", url=f"http://busy{len(written)}.example.org/")
                db.session.commit()
                written.append(1)
            db.session.remove()

    writer = threading.Thread(target=write_cases)
    writer.start()
    try:
        while len(written) < 2:
            stop.wait(0.05)
        made = runner.invoke(args=["db", "backup", str(tmp_path / "busy")])
    finally:
        stop.set()
        writer.join()
    assert made.exit_code == 0, made.output
    assert len(written) >= 2

    restored = on_target(empty_target, "db", "restore", str(tmp_path / "busy"))
    assert restored.exit_code == 0, restored.output
    verified = on_target(empty_target, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    manifest = json.loads((tmp_path / "busy" / "manifest.json").read_text())
    restored_cases = table_digests(empty_target)["cases"][0]
    assert restored_cases == manifest["tables"]["cases"]
    assert restored_cases <= db.session.scalar(select(func.count()).select_from(Case))


def test_a_sqlite_backup_is_one_file_without_a_journal(app, backend, runner, tmp_path):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    runner.invoke(args=["demo"])
    made = runner.invoke(args=["db", "backup", str(tmp_path / "b")])
    assert made.exit_code == 0, made.output
    assert sorted(item.name for item in (tmp_path / "b").iterdir()) == [
        "database.sqlite3",
        "manifest.json",
    ]
    connection = sqlite3.connect(tmp_path / "b" / "database.sqlite3")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()

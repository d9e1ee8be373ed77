"""The backup job: off unless BACKUP_DIR is set (and says so); when on, a backup
every BACKUP_INTERVAL_HOURS, its own oldest beyond BACKUP_KEEP removed, nothing
else in the folder touched."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from casemgr.jobs import backup as backup_job
from casemgr.jobs.cli import ENABLED_BY, enabled
from casemgr.jobs.scheduler import intervals, scheduled
from casemgr.ops.backup_manifest import check_files, read
from tests.conftest import NOW


def run_at(runner, moment) -> str:
    result = runner.invoke(args=["jobs", "run", "backup", "--now", moment.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_off_by_default_and_it_says_so(app, runner):
    assert app.config["BACKUP_DIR"] == ""
    assert ENABLED_BY["backup"] == "BACKUP_DIR" and not enabled("backup", app.config)
    assert "backup" not in scheduled(app, intervals(app.config["SCHEDULE"]))
    assert run_at(runner, NOW) == (
        "backup as of 2026-11-28T09:00:00+00:00: disabled: BACKUP_DIR is not set, no backup "
        "made (scheduled backups are off; see docs/deployment.md, Backups)"
    )


def test_backups_on_their_interval_and_only_its_own_oldest_removed(app, runner, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    app.config.update(BACKUP_DIR=str(folder), BACKUP_KEEP=2, BACKUP_INTERVAL_HOURS=24)
    assert "backup" in scheduled(app, intervals(app.config["SCHEDULE"]))
    runner.invoke(args=["demo"])
    # An operator's own backup in the same folder, even under the job's kind of name,
    # another directory, and one the job left unfinished before a later one.
    manual = runner.invoke(args=["db", "backup", str(folder / "casemgr-backup-20200101T000000Z")])
    assert manual.exit_code == 0, manual.output
    (folder / "keep-me").mkdir()
    (folder / "casemgr-backup-20261127T000000Z").mkdir()

    first = run_at(runner, NOW)
    assert first.startswith(
        "backup as of 2026-11-28T09:00:00+00:00: made casemgr-backup-20261128T090000Z ("
    )
    assert first.endswith(
        "; 0 old removed; 1 unfinished removed (casemgr-backup-20261127T000000Z); 1 kept; 0 failed"
    )
    assert not (folder / "casemgr-backup-20261127T000000Z").exists()  # older: unfinished
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "db.backup" and entry.details["made_by"] == "job"

    not_due = run_at(runner, NOW + timedelta(hours=23))
    assert not_due == (
        "backup as of 2026-11-29T08:00:00+00:00: not due: the newest, "
        "casemgr-backup-20261128T090000Z, is 23 h old (BACKUP_INTERVAL_HOURS 24 h); "
        "0 old removed; 1 kept; 0 failed"
    )
    second = run_at(runner, NOW + timedelta(hours=24))
    assert "made casemgr-backup-20261129T090000Z" in second and "; 2 kept;" in second
    third = run_at(runner, NOW + timedelta(hours=48))
    assert third.endswith("; 1 old removed (casemgr-backup-20261128T090000Z); 2 kept; 0 failed")
    assert sorted(item.name for item in folder.iterdir()) == [
        "casemgr-backup-20200101T000000Z",
        "casemgr-backup-20261129T090000Z",
        "casemgr-backup-20261130T090000Z",
        "keep-me",
    ]
    for name in ("casemgr-backup-20261129T090000Z", "casemgr-backup-20261130T090000Z"):
        manifest = read(folder / name)
        check_files(folder / name, manifest)
        assert manifest.made_by == "job"
    assert (
        json.loads((folder / "casemgr-backup-20200101T000000Z" / "manifest.json").read_text())[
            "made_by"
        ]
        == "command"
    )


def test_a_backup_that_fails_is_reported_and_leaves_nothing(app, runner, tmp_path, monkeypatch):
    folder = tmp_path / "backups"
    folder.mkdir()
    app.config.update(BACKUP_DIR=str(folder))

    def full_disk(*args, **kwargs):
        raise backup_job.BackupError("no space left on the disk of somewhere")

    monkeypatch.setattr(backup_job, "make_backup", full_disk)
    result = runner.invoke(args=["jobs", "run", "backup", "--now", NOW.isoformat()])
    assert result.exit_code == 1
    assert "no backup made; 0 old removed; 0 kept; 1 failed" in result.output
    assert "failed: no space left on the disk of somewhere" in result.output
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"BACKUP_KEEP": 0}, "BACKUP_KEEP must be a whole number of backups, 1 or more: 0"),
        ({"BACKUP_KEEP": "7"}, "BACKUP_KEEP must be a whole number of backups, 1 or more: '7'"),
        ({"BACKUP_INTERVAL_HOURS": 0}, "BACKUP_INTERVAL_HOURS must be a positive number: 0"),
    ],
)
def test_bad_settings_are_named(app, runner, tmp_path, settings, message):
    app.config.update(BACKUP_DIR=str(tmp_path), **settings)
    result = runner.invoke(args=["jobs", "run", "backup", "--now", NOW.isoformat()])
    assert result.exit_code == 1
    assert f"failed: {message}" in result.output


def test_a_backup_dir_that_is_missing_is_named(app, runner, tmp_path):
    app.config.update(BACKUP_DIR=str(tmp_path / "gone"))
    result = runner.invoke(args=["jobs", "run", "backup", "--now", NOW.isoformat()])
    assert result.exit_code == 1
    assert f"failed: BACKUP_DIR {tmp_path / 'gone'} is not a directory" in result.output
    assert not (tmp_path / "gone").exists()

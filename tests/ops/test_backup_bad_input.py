"""db backup to a bad place: a path that exists, a folder that is not writable, a disk
that fills (a real full disk where a mount namespace can be had, a file size
limit, and a failing write): each one line, exit 1, no partial backup left."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from casemgr.ops import backup as backup_module
from casemgr.ops import backup_manifest
from tests.ops.backup_helpers import ROOT, cli_command, cli_env, on_tiny_disk, one_line_error


def test_a_path_that_exists_is_refused_and_left_as_it_was(app, runner, tmp_path):
    existing = tmp_path / "backup"
    existing.mkdir()
    (existing / "notes.txt").write_text("keep me")
    line = one_line_error(runner.invoke(args=["db", "backup", str(existing)]))
    assert line == (
        f"Error: {existing} exists: db backup writes a new directory and never overwrites one; "
        "give a new path"
    )
    assert [item.name for item in existing.iterdir()] == ["notes.txt"]

    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert "exists" in one_line_error(runner.invoke(args=["db", "backup", str(a_file)]))
    assert a_file.read_text() == "x"


def test_a_missing_folder_is_named(app, runner, tmp_path):
    line = one_line_error(runner.invoke(args=["db", "backup", str(tmp_path / "no" / "b")]))
    assert line == (
        f"Error: the folder {tmp_path / 'no'} does not exist: create it first, or give another path"
    )


@pytest.fixture
def unwritable(tmp_path) -> Path:
    """A folder nobody may create anything in: read-only mode, and immutable when the
    tests run as root (who ignores the mode)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    immutable = False
    if os.geteuid() == 0:
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode
        immutable = immutable == 0
        if not immutable:
            folder.chmod(0o700)
            pytest.skip("running as root on a file system without chattr +i")
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o700)


def test_a_folder_that_is_not_writable_is_named(app, runner, unwritable):
    line = one_line_error(runner.invoke(args=["db", "backup", str(unwritable / "b")]))
    assert line == (
        f"Error: the folder {unwritable} is not writable by this user: cannot create "
        f"{unwritable / 'b'}"
    )
    assert list(unwritable.iterdir()) == []


def test_a_full_disk_stops_the_backup_and_removes_it(app, backend, runner, tiny_disk):
    """A real ENOSPC: a 256 KiB file system holds less than the backup (the SQLite
    size check is skipped, so that the write itself meets the full disk)."""
    runner.invoke(args=["demo"])
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    skip_check = "import casemgr.ops.backup as b; b._check_room = lambda path, needed: None"
    result = on_tiny_disk(tiny_disk, url, "db", "backup", str(tiny_disk / "b"), code=skip_check)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"Error: no space left on the disk of {tiny_disk / 'b'}: it filled")
    assert errors[0].endswith(f"; the partial backup {tiny_disk / 'b'} was removed")
    assert "Traceback" not in result.stderr


def test_a_sqlite_backup_that_cannot_fit_is_refused_before_writing(
    app, backend, runner, tmp_path, monkeypatch
):
    if backend != "sqlite":
        pytest.skip("SQLite only: a PostgreSQL dump's size is not known in advance")
    runner.invoke(args=["demo"])
    monkeypatch.setattr(
        backup_module.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10, 9, 1)
    )
    line = one_line_error(runner.invoke(args=["db", "backup", str(tmp_path / "b")]))
    assert line.startswith(f"Error: not enough space for {tmp_path / 'b'}: the backup needs about")
    assert line.endswith("the disk has 1 bytes free; nothing was written")
    assert not (tmp_path / "b").exists()


def test_a_file_size_limit_stops_the_backup_and_removes_it(app, runner, tmp_path):
    """RLIMIT_FSIZE (ulimit -f), with SIGXFSZ ignored so the write fails instead."""
    runner.invoke(args=["demo"])

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    target = tmp_path / "b"
    result = subprocess.run(
        cli_command(app.config["SQLALCHEMY_DATABASE_URI"], "db", "backup", str(target)),
        cwd=ROOT,
        env=cli_env(app.config["SQLALCHEMY_DATABASE_URI"]),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"Error: cannot write {target}: this process may write files of at most 64.0 KiB "
        f"(ulimit -f); the backup needs more; the partial backup {target} was removed"
    )
    assert not target.exists()


def test_a_write_that_fails_midway_kills_pg_dump_and_removes_the_backup(
    app, backend, runner, tmp_path, monkeypatch
):
    """The dump goes through this process's writes: one that fails stops pg_dump."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite writes its file itself")
    runner.invoke(args=["demo"])
    written = []
    real = backup_manifest.HashingWriter.write

    def fill_up(self, chunk: bytes) -> None:
        real(self, chunk[:1000])  # what fitted
        written.append(len(chunk))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(backup_manifest.HashingWriter, "write", fill_up)
    target = tmp_path / "b"
    line = one_line_error(runner.invoke(args=["db", "backup", str(target)]))
    assert line.startswith(f"Error: no space left on the disk of {target}: it filled after")
    assert not target.exists()
    assert written

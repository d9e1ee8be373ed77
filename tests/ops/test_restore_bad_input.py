"""db restore refuses, with one line and nothing changed: a truncated or changed file,
a damaged or missing manifest, a newer schema, the other engine's backup, a
database that is not empty; and both commands name missing or old client tools."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import _postgres_admin_url
from tests.ops.backup_helpers import (
    dump_of,
    head_revision,
    on_tiny_disk,
    one_line_error,
    source_url,
    table_count,
    table_digests,
    tables_in,
)


@pytest.fixture
def backup(app, runner, tmp_path) -> Path:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "backup"
    made = runner.invoke(args=["db", "backup", str(path)])
    assert made.exit_code == 0, made.output
    return path


def refused(on_target, url: str, path: Path, **config) -> str:
    line = one_line_error(on_target(url, "db", "restore", str(path), **config))
    assert tables_in(url) == [], "a refused restore changed the target"
    return line


def test_a_truncated_dump_is_refused(backup, empty_target, on_target):
    dump = dump_of(backup)
    size = dump.stat().st_size
    with open(dump, "r+b") as file:
        file.truncate(size // 2)
    line = refused(on_target, empty_target, backup)
    assert line == (
        f"Error: {dump} is {size // 2:,} bytes, the manifest says {size:,}: the file was "
        "truncated after the backup"
    )


def test_a_changed_dump_is_refused(backup, empty_target, on_target):
    dump = dump_of(backup)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    line = refused(on_target, empty_target, backup)
    assert line == (
        f"Error: {dump} does not match the SHA-256 in manifest.json: the file was changed or "
        "damaged after the backup"
    )


def test_a_damaged_or_missing_manifest_is_refused(backup, empty_target, on_target, tmp_path):
    manifest = backup / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text[: len(text) // 2])
    assert "manifest.json is not valid JSON" in refused(on_target, empty_target, backup)
    manifest.unlink()
    assert refused(on_target, empty_target, backup) == (
        f"Error: {backup} has no manifest.json: it is not a casemgr backup, or one that did "
        "not finish (a backup's manifest is written last)"
    )
    assert refused(on_target, empty_target, tmp_path / "nothing") == (
        f"Error: {tmp_path / 'nothing'} does not exist: give the directory that db backup wrote"
    )


def test_a_backup_of_a_newer_schema_is_refused(backup, empty_target, on_target):
    manifest = backup / "manifest.json"
    data = json.loads(manifest.read_text())
    data["schema_revision"] = "0042"
    data["casemgr_version"] = "9.1.0"
    manifest.write_text(json.dumps(data))
    line = refused(on_target, empty_target, backup)
    assert line.startswith("Error: the backup is of schema revision 0042, which this version of ")
    assert line.endswith(
        f"newest revision {head_revision()}) does not know: restore it with casemgr 9.1.0 or newer"
    )


def test_a_non_empty_database_is_refused_naming_what_it_holds(app, backup, on_target):
    url = source_url(app)
    before = table_digests(url)
    line = one_line_error(on_target(url, "db", "restore", str(backup)))
    assert line.startswith(
        f"Error: the database to restore into is not empty: it has {table_count()} tables, "
    )
    assert (
        f"schema revision {head_revision()}, " in line
        and f"cases ({before['cases'][0]:,} rows)" in line
    )
    assert line.endswith("; nothing was changed")
    assert table_digests(url) == before


def test_a_migrated_database_without_rows_is_still_refused(backup, empty_target, on_target):
    """pg_restore and the SQLite copy make the schema themselves: a migrated target
    would clash, so it is refused as it is, before anything is written."""
    assert on_target(empty_target, "db", "upgrade").exit_code == 0
    line = one_line_error(on_target(empty_target, "db", "restore", str(backup)))
    assert f"{table_count()} tables, schema revision {head_revision()}, no rows" in line


@pytest.mark.postgres
def test_a_backup_of_the_other_engine_is_refused(app, backend, backup, database_urls, on_target):
    if not _postgres_admin_url():
        pytest.skip("TEST_DATABASE_URL is not set")
    other = "postgresql" if backend == "sqlite" else "sqlite"
    target = database_urls[other]
    before = table_digests(target)
    line = one_line_error(on_target(target, "db", "restore", str(backup)))
    if backend == "sqlite":
        assert line == (
            "Error: this is a backup of a SQLite database and the configured database is "
            "postgresql: restore it into SQLite (DATABASE_URL=sqlite:///...), then move it "
            "with flask --app wsgi db copy --to postgresql://..."
        )
    else:
        assert line.startswith("Error: this is a backup of a PostgreSQL database and the ")
    assert table_digests(target) == before


def test_a_sqlite_restore_onto_a_full_disk_leaves_nothing(backend, backup, tiny_disk):
    if backend != "sqlite":
        pytest.skip("SQLite only: PostgreSQL restores in one transaction on its server")
    target = tiny_disk / "restored.db"
    # What is left on the tmpfs is seen from inside its namespace, as the process ends.
    show = f"import atexit, os; atexit.register(lambda: print(os.listdir({str(tiny_disk)!r})))"
    result = on_tiny_disk(tiny_disk, f"sqlite:///{target}", "db", "restore", str(backup), code=show)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"Error: restoring into {target} failed: no space left on the disk")
    assert errors[0].endswith("; nothing was restored")
    assert result.stdout.strip().splitlines()[-1] == "[]"


# --- PostgreSQL's client tools


def fake_tool(folder: Path, name: str, version: str) -> None:
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
    script.chmod(0o755)


def test_backup_names_a_missing_pg_dump(app, backend, runner, tmp_path, monkeypatch):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    (tmp_path / "bin").mkdir()
    app.config["BACKUP_PG_BIN"] = str(tmp_path / "bin")
    line = one_line_error(runner.invoke(args=["db", "backup", str(tmp_path / "b")]))
    assert line.startswith(f"Error: pg_dump was not found in BACKUP_PG_BIN ({tmp_path / 'bin'}): ")
    assert "install PostgreSQL's client tools of version 15 or newer" in line
    assert "apt-get install postgresql-client-15" in line
    assert not (tmp_path / "b").exists()

    app.config["BACKUP_PG_BIN"] = ""
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    line = one_line_error(runner.invoke(args=["db", "backup", str(tmp_path / "b")]))
    assert line.startswith("Error: pg_dump was not found on PATH: install PostgreSQL's client")


def test_backup_refuses_a_pg_dump_older_than_the_server(app, backend, runner, tmp_path):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    fake_tool(tmp_path / "bin", "pg_dump", "9.6.24")
    app.config["BACKUP_PG_BIN"] = str(tmp_path / "bin")
    line = one_line_error(runner.invoke(args=["db", "backup", str(tmp_path / "b")]))
    assert line.startswith(
        f"Error: pg_dump ({tmp_path / 'bin' / 'pg_dump'}) is version 9, older than the "
        "PostgreSQL server (15): install"
    )
    assert not (tmp_path / "b").exists()


def test_restore_names_a_missing_or_old_pg_restore(
    backend, backup, empty_target, on_target, tmp_path
):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    folder = tmp_path / "bin"
    folder.mkdir()
    line = refused(on_target, empty_target, backup, BACKUP_PG_BIN=str(folder))
    assert line.startswith(f"Error: pg_restore was not found in BACKUP_PG_BIN ({folder}): ")
    fake_tool(folder, "pg_restore", "12.1")
    line = refused(on_target, empty_target, backup, BACKUP_PG_BIN=str(folder))
    assert "is version 12, older than the PostgreSQL server (15)" in line
    assert os.path.exists(dump_of(backup))

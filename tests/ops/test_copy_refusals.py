"""What ``flask db copy`` refuses, before it writes anything; and a copy killed
halfway: the source untouched, the rerun saying what to do."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from casemgr import create_app
from casemgr.clock import FixedClock
from casemgr.ops.copy_cli import copy_command
from tests.conftest import NOW, _driver
from tests.ops.copy_helpers import (
    file_digests,
    recreate,
    source_app,
)

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def run_copy(source: str, *args: str):
    return source_app(source).test_cli_runner().invoke(copy_command, list(args))


def refused(result, *phrases: str) -> str:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("db copy refused: "), result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    return result.stderr


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(_driver(url))
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def rows_in(url: str, table: str) -> int:
    engine = sa.create_engine(_driver(url))
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))  # noqa: S608
    finally:
        engine.dispose()


def variant(copy_source: str, tmp_path, *statements: str) -> str:
    """A copy of the source with ``statements`` run on it."""
    path = str(tmp_path / "variant.db")
    with sqlite3.connect(copy_source) as original, sqlite3.connect(path) as copy:
        original.backup(copy)
        for statement in statements:
            copy.execute(statement)
    return path


def test_a_target_with_rows_is_refused_naming_them(copy_source, new_database):
    target = new_database()
    execute(
        target,
        "INSERT INTO reference_counters (name, value) VALUES ('case-2026', 7)",
        "INSERT INTO login_throttle (key, failures, first_failure_at) VALUES ('k', 1, now())",
    )
    message = refused(
        run_copy(copy_source, "--to", target),
        "is not empty: login_throttle (1 row), reference_counters (1 row)",
        "drop it, create it again, migrate it and copy again",
        "flask --app wsgi db upgrade",
    )
    assert "organisations" not in message
    assert rows_in(target, "organisations") == 0


def test_a_target_at_another_revision_is_refused_naming_both(copy_source, new_database):
    target = new_database()
    execute(target, "UPDATE alembic_version SET version_num = '0019'")
    refused(
        run_copy(copy_source, "--to", target),
        "the target is at schema revision 0019 and the source at 0020",
    )


def test_a_target_without_the_schema_is_refused(copy_source, new_database):
    target = new_database(migrated=False)
    refused(run_copy(copy_source, "--to", target), "has no schema", "db upgrade")


def test_a_source_behind_the_code_is_refused_naming_both(copy_source, new_database, tmp_path):
    source = variant(copy_source, tmp_path, "UPDATE alembic_version SET version_num = '0019'")
    refused(
        run_copy(source, "--to", new_database()),
        "the source database is at schema revision 0019",
        "migrations end at 0020",
    )


def test_a_source_table_casemgr_does_not_know_is_refused(copy_source, new_database, tmp_path):
    source = variant(copy_source, tmp_path, "CREATE TABLE local_notes (id INTEGER)")
    refused(run_copy(source, "--to", new_database()), "casemgr does not know", "local_notes")


def test_the_same_database_is_refused(copy_source, new_database):
    refused(run_copy(copy_source, "--to", f"sqlite:///{copy_source}"), "the database being copied")
    target = new_database()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": target}, clock=FixedClock(NOW))
    result = app.test_cli_runner().invoke(copy_command, ["--to", target])
    refused(result, "the database being copied")


def test_a_postgresql_source_is_refused(new_database):
    """Between PostgreSQL databases, pg_dump and pg_restore do it whole."""
    source, target = new_database(), new_database()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": source}, clock=FixedClock(NOW))
    result = app.test_cli_runner().invoke(copy_command, ["--to", target])
    refused(result, "this installation's database is postgresql", "pg_dump")


def test_a_target_that_is_not_postgresql_is_refused(copy_source, tmp_path):
    refused(
        run_copy(copy_source, "--to", f"sqlite:///{tmp_path / 'other.db'}"),
        "--to must name a PostgreSQL database",
    )
    refused(run_copy(copy_source, "--to", "not a url"), "--to is not a database URL")


def test_a_target_that_cannot_connect_is_named_without_its_password(copy_source, copy_template):
    result = run_copy(copy_source, "--to", "postgresql://postgres:s3cret-pw@127.0.0.1:1/nowhere")
    message = refused(result, "cannot connect to postgresql://postgres:***@127.0.0.1:1/")
    assert "s3cret-pw" not in result.output + message

    admin, _ = copy_template
    missing = admin.url.set(database="casemgr_copy_missing", password="s3cret-pw")
    result = run_copy(copy_source, "--to", missing.render_as_string(hide_password=False))
    message = refused(
        result, 'database "casemgr_copy_missing" does not exist', "createdb casemgr_copy_missing"
    )
    assert "s3cret-pw" not in result.output + message


def test_a_value_the_target_refuses_stops_the_copy_saying_what_to_do(
    copy_source, new_database, tmp_path
):
    """SQLite does not enforce VARCHAR lengths; PostgreSQL does."""
    too_long = "UPDATE cases SET status = '" + "x" * 30 + "' WHERE id = 3"
    source = variant(copy_source, tmp_path, too_long)
    target = new_database()
    result = run_copy(source, "--to", target, "--batch-size", "100")
    assert result.exit_code == 1, result.output
    assert "\ndb copy failed: the copy stopped in cases: " in "\n" + result.stderr
    assert "value too long for type character varying(20)" in result.stderr
    assert "The target now holds part of the data. Drop it, create it again" in result.stderr
    assert rows_in(target, "users") > 0 and rows_in(target, "cases") == 0


def _copy_process(source: str, target: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CASEMGR_ENV": "testing", "DATABASE_URL": f"sqlite:///{source}"}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "copy", "--to", target, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_lock_wait(admin: sa.Engine, target: str, process: subprocess.Popen) -> None:
    name = sa.make_url(target).database
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        with admin.connect() as connection:
            waiting = connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :name "
                    "AND application_name = 'casemgr db copy' AND wait_event_type = 'Lock'"
                ),
                {"name": name},
            )
        if waiting:
            return
        time.sleep(0.1)
    raise AssertionError("the copy never reached case_events")


@pytest.mark.slow
def test_killed_halfway_the_rerun_says_what_to_do(copy_source, new_database, copy_template):
    """kill -9 while the copy waits to write case_events (a lock held here keeps
    it there): the tables before it are committed, the source is as it was,
    and the next run refuses the half-filled target and says what to do."""
    admin, _ = copy_template
    target = new_database()
    before = file_digests(copy_source)
    cases = sqlite3.connect(copy_source).execute("SELECT count(*) FROM cases").fetchone()[0]

    blocker = sa.create_engine(_driver(target)).connect()
    blocker.execute(sa.text("LOCK TABLE case_events IN SHARE MODE"))
    process = _copy_process(copy_source, target, "--batch-size", "500")
    try:
        _wait_for_lock_wait(admin, target, process)
        assert rows_in(target, "cases") == cases  # committed, batch by batch
        process.send_signal(signal.SIGKILL)
        process.communicate()
        assert process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        blocker.rollback()
        blocker.close()
        blocker.engine.dispose()
    assert file_digests(copy_source) == before

    rerun = _copy_process(copy_source, target)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 1, out + err
    assert "is not empty" in err and f"cases ({cases:,} rows)" in err
    assert "If an earlier copy into it was interrupted" in err
    assert "dropdb" in err and "db upgrade" in err
    assert "case_events" not in err  # never written: the kill came before it
    assert file_digests(copy_source) == before

    recreate(copy_template, target)
    again = _copy_process(copy_source, target)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, out + err
    assert "Verified: " in out and "audit chain on the target: OK" in out
    assert file_digests(copy_source) == before

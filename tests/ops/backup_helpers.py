"""Backup and restore helpers: a filled source database, an empty target of the
same engine, the CLI run on the target (or in a process of its own, on a tiny
disk), and every table's rows as a digest. Its fixtures are imported by conftest."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from casemgr import context, create_app
from casemgr.cases import services as cases
from casemgr.extensions import db
from tests.conftest import NOW, _driver, new_postgres_database


def filled_with_work(runner, make) -> None:
    """The demo, plus generated cases in every state, a notice run's letters and
    more audit entries (purges, a checkpoint of the log)."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    analyst = make.user("analyst")
    provider = make.organisation()
    states = ("new", "triage", "action_required", "notice_pending", "closed", "forwarded")
    for number in range(30):
        state = states[number % len(states)]
        case = make.case(state, by=analyst, url=f"http://gen{number}.example.net/p/{number}")
        if state == "action_required" and number % 2:
            cases.apply_action(
                db.session,
                case,
                "request_notice",
                {"provider_id": provider.id},
                actor=analyst.actor,
                now=NOW - timedelta(hours=1),
                timings=context.timings(),
            )
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "notices", "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["jobs", "run", "retention", "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["jobs", "run", "audit_checkpoint", "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Every table: its row count and a SHA-256 of its rows in primary-key order."""
    engine = sa.create_engine(_driver(url))
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            found = {}
            for name in inspector.get_table_names():
                table = sa.Table(name, sa.MetaData(), autoload_with=connection)
                order = list(table.primary_key.columns) or list(table.columns)
                digest = hashlib.sha256()
                count = 0
                for row in connection.execute(sa.select(table).order_by(*order)):
                    digest.update(repr(tuple(row)).encode())
                    count += 1
                found[name] = (count, digest.hexdigest())
            return found
    finally:
        engine.dispose()


@pytest.fixture
def empty_target(backend, tmp_path) -> Iterator[str]:
    """The URL of a database with nothing in it, of the test's engine."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    with new_postgres_database("casemgr_restore") as url:
        yield url


@pytest.fixture
def on_target(clock) -> Iterator[Callable[..., Result]]:
    """``on_target(url, "db", "restore", path, **config)``: a CLI command run by an app
    on the database ``url`` (in its own app context)."""
    apps: list[Flask] = []

    def invoke(url: str, *args: str, **config) -> Result:
        target = create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, **config}, clock=clock
        )
        apps.append(target)
        with target.app_context():
            try:
                return target.test_cli_runner().invoke(args=list(args))
            finally:
                db.session.remove()
                db.engine.dispose()

    yield invoke


def tables_in(url: str) -> list[str]:
    engine = sa.create_engine(_driver(url))
    try:
        with engine.connect() as connection:
            return sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()


def source_url(app: Flask) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


def dump_of(path: Path) -> Path:
    (found,) = [item for item in path.iterdir() if item.name.startswith("database.")]
    return found


ROOT = Path(__file__).resolve().parents[2]


def head_revision() -> str:
    """The newest schema revision of the migrations (what a migrated database is at)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def table_count() -> int:
    """Tables of a migrated database: the models' and alembic_version."""
    return len(db.metadata.tables) + 1


# Runs flask's CLI after the Python code in its first argument (a test's patch).
_RUN = """
import sys
exec(sys.argv.pop(1))
from flask.cli import main
sys.argv[0] = "flask"
main()
"""


def one_line_error(result) -> str:
    """The one ``Error: ...`` line of a CLI result that exited 1."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.output
    return lines[0]


def cli_command(database_url: str, *args: str, code: str = "") -> list[str]:
    """``flask --app wsgi ARGS`` as a command line, running ``code`` first."""
    return [sys.executable, "-c", _RUN, code, "--app", "wsgi", *args]


def cli_env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "CASEMGR_ENV": "testing"}


def tiny_disk_prefix(mount: Path) -> list[str]:
    """A command prefix that runs its command with a 256 KiB tmpfs on ``mount``, in a
    user and mount namespace of its own (no root needed where the kernel allows it)."""
    shell = 'mount -t tmpfs -o size=256k tmpfs "$0" && exec "$@"'
    return ["unshare", "--map-root-user", "--mount", "sh", "-c", shell, str(mount)]


def on_tiny_disk(mount: Path, database_url: str, *args: str, code: str = ""):
    """The CLI run with a full-size-256-KiB file system on ``mount`` (a real ENOSPC)."""
    return subprocess.run(
        [*tiny_disk_prefix(mount), *cli_command(database_url, *args, code=code)],
        cwd=ROOT,
        env=cli_env(database_url),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def tiny_disk(tmp_path) -> Path:
    """A folder that becomes a 256 KiB tmpfs for commands run with :func:`on_tiny_disk`;
    skipped where no user namespace can be had."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run([*tiny_disk_prefix(mount), "true"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"no user namespace for a tmpfs here: {probe.stderr.decode().strip()}")
    return mount

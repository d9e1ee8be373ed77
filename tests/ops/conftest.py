"""Backup and restore helpers: a filled source database, an empty target of the
same engine, the CLI run on the target, and every table's rows as a digest."""

from __future__ import annotations

import hashlib
import uuid
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
from tests.conftest import NOW, _driver, _postgres_admin_url


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
    admin = sa.create_engine(_driver(_postgres_admin_url()), isolation_level="AUTOCOMMIT")
    name = f"casemgr_restore_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.make_url(_driver(_postgres_admin_url()))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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

"""Shared fixtures.

Every test that uses ``app`` runs on SQLite, and again on PostgreSQL when
TEST_DATABASE_URL is set (those runs carry the ``postgres`` mark). Each test
session builds its own databases with the migrations, so the schema under test
is the one a real installation gets; each test starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from casemgr import create_app
from casemgr.clock import FixedClock
from casemgr.extensions import db
from tests import factories

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _postgres_admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory) -> Iterator[dict[str, str]]:
    """One fresh database per backend for the whole run, migrated to head."""
    with fresh_databases(tmp_path_factory.mktemp("db"), "casemgr_test") as urls:
        yield urls


@contextmanager
def new_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database named ``prefix_<random>`` on TEST_DATABASE_URL's
    server: its URL (psycopg driver) while in use, dropped at the end."""
    admin_url = _driver(_postgres_admin_url())
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_databases(folder, prefix: str) -> Iterator[dict[str, str]]:
    """A new SQLite file in ``folder`` and, with TEST_DATABASE_URL, a new
    PostgreSQL database named ``prefix_<random>``, both migrated to head; the
    PostgreSQL one is dropped at the end."""
    urls = {"sqlite": f"sqlite:///{folder / 'test.db'}"}
    with ExitStack() as stack:
        if _postgres_admin_url():
            urls["postgresql"] = stack.enter_context(new_postgres_database(prefix))
        for url in urls.values():
            migrate_to_head(url)
        yield urls


def _driver(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def migrate_to_head(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url},
        clock=FixedClock(NOW),
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend(request) -> str:
    if request.param == "postgresql" and not _postgres_admin_url():
        pytest.skip("TEST_DATABASE_URL is not set")
    return request.param


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def app_config() -> dict:
    """Settings a test module may override with its own fixture of this name."""
    return {}


@pytest.fixture
def app(backend, database_urls, clock, app_config) -> Iterator[Flask]:
    app = create_app(
        {
            # TestingConfig: CSRF off (tests that check it turn it on), test keys.
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_urls[backend],
            **app_config,
        },
        clock=clock,
    )
    app.test_client_class = FreshRequestClient
    with app.app_context():
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        with db.engine.begin() as connection, audit_log_unguarded(connection):
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # No AUTOINCREMENT tables: ids start at 1 again once a table is empty.
        with db.engine.begin() as connection, audit_log_unguarded(connection):
            for table in reversed(tables):
                connection.execute(table.delete())


@contextmanager
def audit_log_unguarded(connection: sa.Connection) -> Iterator[None]:
    """Within a transaction: the triggers that keep audit_log append-only are off
    (migration 0003). For emptying tables between tests and for tampering on purpose."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        yield
        connection.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        return
    triggers = connection.execute(
        sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
        )
    ).all()
    for name, _ in triggers:
        connection.execute(sa.text(f'DROP TRIGGER "{name}"'))
    yield
    for _, sql in triggers:
        connection.execute(sa.text(sql))


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    Tests hold an app context open (for the database and the builders), and
    Flask reuses it for the requests they make; without this, what one request
    cached in ``g`` (flask-login's user, above all) would leak into the next,
    which never happens in a real server.
    """

    def open(self, *args, **kwargs):
        from flask import g, has_app_context

        if has_app_context():  # a request from another thread has none to reuse
            vars(g).clear()
            db.session.expire_all()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    """Builders of users, organisations and cases in any state (tests/factories.py)."""
    return factories


@pytest.fixture
def analyst(app):
    return factories.user("analyst")


@pytest.fixture
def supervisor(app):
    return factories.user("supervisor")


@pytest.fixture
def admin(app):
    return factories.user("admin")


def login(client: FlaskClient, user) -> FlaskClient:
    """Sign ``user`` in on ``client``: the password, then (for users with a
    second factor, as the factories give supervisors and admins) the code."""
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302, response.data
    if response.location.startswith("/login/code"):
        # A code is accepted once; tests sign one user in several times at one
        # fixed moment, so the last step used is forgotten first.
        factories.forget_last_code(user)
        response = client.post("/login/code", data={"code": factories.totp_code(user)})
        assert response.status_code == 302, response.data
    assert not response.location.startswith("/login"), response.location
    return client

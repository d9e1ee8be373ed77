"""The migrations build exactly the schema the models describe, and step down
and up again without losing data, on every backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from casemgr import create_app
from casemgr.clock import FixedClock
from casemgr.extensions import db
from tests.conftest import NOW, _driver, _postgres_admin_url


@pytest.fixture
def empty_database(backend, tmp_path) -> Iterator[str]:
    """A database of its own, with no schema at all."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin = sa.create_engine(_driver(_postgres_admin_url()), isolation_level="AUTOCOMMIT")
    name = f"casemgr_migrations_{uuid.uuid4().hex[:10]}"
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


def _app(url: str):
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url},
        clock=FixedClock(NOW),
    )


def test_head_matches_the_models(empty_database):
    from flask_migrate import upgrade

    app = _app(empty_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata
            )
        db.engine.dispose()
    assert differences == []


def test_directory_migration_down_and_up_keeps_organisations(empty_database):
    from flask_migrate import downgrade, upgrade

    app = _app(empty_database)
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO organisations "
                    "(kind, name, country, email, language, address, notes, active, created_at) "
                    "VALUES ('hosting_provider', 'Old Host', 'KH', 'abuse@old.example.com', "
                    "'en', '', '', :yes, :now)"
                ),
                {"yes": True, "now": NOW.replace(tzinfo=None)},
            )
        upgrade(revision="0002")
        with db.engine.begin() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            assert {"organisation_domains", "organisation_networks"} <= tables
            connection.execute(
                sa.text(
                    "INSERT INTO organisation_domains (organisation_id, domain) "
                    "VALUES (1, 'old.example.com')"
                )
            )
            indexes = {ix["name"] for ix in sa.inspect(connection).get_indexes("organisations")}
            assert "ix_organisations_kind_country" in indexes
        downgrade(revision="0001")
        with db.engine.begin() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            assert "organisation_domains" not in tables
            assert "organisation_networks" not in tables
            names = connection.execute(sa.text("SELECT name FROM organisations")).scalars().all()
            assert names == ["Old Host"]
        upgrade()
        db.engine.dispose()


def test_monthly_reports_migration_down_and_up(empty_database):
    from flask_migrate import downgrade, upgrade

    app = _app(empty_database)
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO monthly_reports (month, pdf, sha256, size, as_of, created_at) "
                    "VALUES (:month, :pdf, :sha, 4, :now, :now)"
                ),
                {
                    "month": NOW.date().replace(day=1),
                    "pdf": b"%PDF",
                    "sha": "0" * 64,
                    "now": NOW.replace(tzinfo=None),
                },
            )
            with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
                connection.execute(
                    sa.text(
                        "INSERT INTO monthly_reports (month, pdf, sha256, size, as_of, created_at) "
                        "VALUES (:month, :pdf, :sha, 4, :now, :now)"
                    ),
                    {
                        "month": NOW.date().replace(day=1),
                        "pdf": b"%PDF",
                        "sha": "1" * 64,
                        "now": NOW.replace(tzinfo=None),
                    },
                )
        downgrade(revision="0007")
        with db.engine.begin() as connection:
            assert "monthly_reports" not in sa.inspect(connection).get_table_names()
        upgrade()
        with db.engine.begin() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM monthly_reports")).scalar()
            assert count == 0
        db.engine.dispose()

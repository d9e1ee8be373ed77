"""The migrations build exactly the schema the models describe, and step down
and up again without losing data, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from casemgr import create_app
from casemgr.clock import FixedClock
from casemgr.extensions import db
from tests.conftest import NOW, new_postgres_database


@pytest.fixture
def empty_database(backend, tmp_path) -> Iterator[str]:
    """A database of its own, with no schema at all."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with new_postgres_database("casemgr_migrations") as url:
        yield url


@pytest.fixture
def migrating(empty_database) -> Iterator[None]:
    """An app context on the empty database, to migrate it step by step; its
    engine's connections are closed afterwards, whatever the test did (left
    open, they would outlive the dropped database and warn when collected)."""
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database},
        clock=FixedClock(NOW),
    )
    with app.app_context():
        try:
            yield
        finally:
            db.engine.dispose()


def test_head_matches_the_models(migrating):
    from flask_migrate import upgrade

    upgrade()
    with db.engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata
        )
    assert differences == []


def test_directory_migration_down_and_up_keeps_organisations(migrating):
    from flask_migrate import downgrade, upgrade

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


def test_assessor_migration_fills_in_who_made_the_current_assessment(migrating):
    """0008 copies each case's assessor from the assess event of its assessed_at
    (a reassessed case: the latest one), and steps down and up again."""
    from flask_migrate import downgrade, upgrade

    naive = NOW.replace(tzinfo=None)
    later = naive + timedelta(hours=5)
    upgrade(revision="0007")
    with db.engine.begin() as connection:
        for user_id, name in ((1, "Ana"), (2, "Bo")):
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, name, role, password_hash, active, "
                    "created_at, session_token) VALUES (:id, :email, :name, 'analyst', 'x', "
                    ":yes, :now, :token)"
                ),
                {"id": user_id, "email": f"{name}@example.org", "name": name, "yes": True,
                 "now": naive, "token": name * 4},
            )  # fmt: skip
        connection.execute(
            sa.text(
                "INSERT INTO submissions (id, reference, source, received_at, description, "
                "feedback_requested) VALUES (1, 'S-1', 'public', :now, '', :no)"
            ),
            {"now": naive, "no": False},
        )
        cases = {1: later, 2: naive + timedelta(hours=1), 3: None}
        for case_id, assessed_at in cases.items():
            connection.execute(
                sa.text(
                    "INSERT INTO cases (id, reference, submission_id, url, url_hash, host, "
                    "status, police_hold, received_at, assessed_at, reminder_count, "
                    "updated_at, version) VALUES (:id, :ref, 1, :url, :hash, 'example.com', "
                    "'triage', :no, :now, :assessed, 0, :now, 1)"
                ),
                {"id": case_id, "ref": f"C-{case_id}", "url": f"http://example.com/{case_id}",
                 "hash": f"{case_id:064d}", "no": False, "now": naive,
                 "assessed": assessed_at},
            )  # fmt: skip
        # Case 1 was assessed by Ana, reopened, then assessed again by Bo.
        events = [(1, 1, naive + timedelta(hours=1)), (1, 2, later), (2, 1, cases[2])]
        for case_id, actor_id, created_at in events:
            connection.execute(
                sa.text(
                    "INSERT INTO case_events (case_id, actor_id, action, from_status, "
                    "to_status, fields, created_at) VALUES (:case_id, :actor_id, 'assess', "
                    "'triage', 'action_required', '{}', :at)"
                ),
                {"case_id": case_id, "actor_id": actor_id, "at": created_at},
            )
    upgrade(revision="0008")
    assessors = "SELECT id, assessed_by_id FROM cases ORDER BY id"
    events = "SELECT count(*) FROM case_events"
    with db.engine.begin() as connection:
        assert connection.execute(sa.text(assessors)).all() == [(1, 2), (2, 1), (3, None)]
        indexes = {ix["name"] for ix in sa.inspect(connection).get_indexes("case_events")}
        assert "ix_case_events_assess" not in indexes
        # SQLite rebuilds the cases table: its events must survive that.
        assert connection.execute(sa.text(events)).scalar() == 3
    downgrade(revision="0007")
    with db.engine.begin() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("cases")}
        assert "assessed_by_id" not in columns
        assert connection.execute(sa.text("SELECT count(*) FROM cases")).scalar() == 3
        assert connection.execute(sa.text(events)).scalar() == 3
    upgrade()
    with db.engine.begin() as connection:
        assert connection.execute(sa.text(assessors)).all() == [(1, 2), (2, 1), (3, None)]


def test_monthly_reports_migration_down_and_up(migrating):
    from flask_migrate import downgrade, upgrade

    upgrade(revision="0009")
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
    downgrade(revision="0008")
    with db.engine.begin() as connection:
        assert "monthly_reports" not in sa.inspect(connection).get_table_names()
    upgrade()
    with db.engine.begin() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM monthly_reports")).scalar()
        assert count == 0


def test_submission_language_migration_down_and_up(migrating):
    """0010 adds submissions.language: existing reports get NULL (not known)."""
    from flask_migrate import downgrade, upgrade

    upgrade(revision="0009")
    insert = (
        "INSERT INTO submissions (id, reference, source, received_at, description, "
        "feedback_requested) VALUES (:id, :ref, 'public', :now, '', :no)"
    )
    values = {"now": NOW.replace(tzinfo=None), "no": False}
    with db.engine.begin() as connection:
        connection.execute(sa.text(insert), {"id": 1, "ref": "S-1", **values})
    upgrade(revision="0010")
    languages = "SELECT id, language FROM submissions ORDER BY id"
    with db.engine.begin() as connection:
        assert connection.execute(sa.text(languages)).all() == [(1, None)]
        connection.execute(sa.text("UPDATE submissions SET language = 'km' WHERE id = 1"))
    downgrade(revision="0009")
    with db.engine.begin() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("submissions")}
        assert "language" not in columns
        connection.execute(sa.text(insert), {"id": 2, "ref": "S-2", **values})
    upgrade()
    with db.engine.begin() as connection:
        assert connection.execute(sa.text(languages)).all() == [(1, None), (2, None)]


def test_audit_keys_migration_keeps_the_plain_chain_and_its_triggers(migrating):
    """0020 adds key_id without rebuilding audit_log: the plain entries stay as
    they were, still append-only, and the next entry is the switch-over."""
    from flask_migrate import downgrade, upgrade

    from casemgr import context
    from casemgr.audit import chain, verification
    from casemgr.audit.services import record

    upgrade(revision="0019")
    previous = chain.GENESIS
    with db.engine.begin() as connection:
        for number in range(2):
            fields = {
                "created_at": NOW,
                "actor_id": None,
                "action": "test.legacy",
                "target_type": None,
                "target_id": None,
                "details": {"n": number},
                "prev_hash": previous,
            }
            previous = chain.entry_hash(**fields)
            connection.execute(
                sa.text(
                    "INSERT INTO audit_log (created_at, actor_id, action, target_type, "
                    "target_id, details, prev_hash, entry_hash) VALUES (:created_at, NULL, "
                    ":action, NULL, NULL, :details, :prev_hash, :entry_hash)"
                ),
                {**fields, "details": f'{{"n": {number}}}', "entry_hash": previous},
            )
    upgrade()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_log SET action = 'x'"))
    verdict = verification.verify(db.session, chain.current_keys())
    assert (verdict.ok, verdict.count, verdict.plain, verdict.keyed_from) == (True, 2, 2, None)
    record(db.session, action="test.keyed", now=context.now())
    db.session.commit()
    verdict = verification.verify(db.session, chain.current_keys())
    assert (verdict.ok, verdict.count, verdict.plain, verdict.keyed_from) == (True, 4, 2, 3)
    db.session.remove()

    downgrade(revision="0019")
    with db.engine.begin() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("audit_log")}
        assert "key_id" not in columns
        assert "audit_checkpoints" not in sa.inspect(connection).get_table_names()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_log"))
    upgrade()

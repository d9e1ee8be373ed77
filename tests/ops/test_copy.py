"""``flask db copy``: a SQLite installation (the demo plus generated cases) into
PostgreSQL, checked table by table, row by row; the sequences go on from the
largest id, and the app works on the copy."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from casemgr import create_app
from casemgr.cases.models import Case
from casemgr.clock import FixedClock
from casemgr.demo import DEMO_PASSWORD
from casemgr.extensions import db
from casemgr.notices.models import Notice
from casemgr.ops import copy_rows
from casemgr.ops.copy_checks import CopyRefused
from casemgr.ops.copy_cli import copy_command
from tests import factories
from tests.conftest import NOW, _driver
from tests.ops.copy_helpers import (
    FORWARD_DUPLICATES,
    GENERATED_CASES,
    source_app,
)

pytestmark = pytest.mark.postgres


def run_copy(source: str, *args: str):
    app = source_app(source)
    return app.test_cli_runner().invoke(copy_command, list(args))


def rows_of(url: str) -> dict[str, list]:
    """Every table's rows in id order, read through the models' types."""
    engine = sa.create_engine(_driver(url))
    try:
        with engine.connect() as connection:
            return {
                table.name: connection.execute(
                    sa.select(table).order_by(*table.primary_key.columns)
                ).all()
                for table in db.metadata.tables.values()
            }
    finally:
        engine.dispose()


def test_copy_moves_every_row_and_verifies_it(copy_source, new_database):
    target = new_database()
    result = run_copy(copy_source, "--to", target, "--batch-size", "700")
    assert result.exit_code == 0, result.stdout + result.stderr

    source_rows = rows_of(f"sqlite:///{copy_source}")
    target_rows = rows_of(target)
    assert len(source_rows["cases"]) > GENERATED_CASES + 40
    for name, rows in source_rows.items():
        assert target_rows[name] == rows, name
        assert f"\n{name} " in result.stdout  # each table's counts are printed
    # The types came through: aware datetimes, booleans, blobs, JSON documents.
    cases = {row.id: row for row in target_rows["cases"]}
    assert any(row.police_hold is True for row in cases.values())
    assert all(row.received_at.tzinfo is not None for row in cases.values())
    forward = [
        row for row in cases.values() if row.duplicate_of_id and row.duplicate_of_id > row.id
    ]
    assert len(forward) == FORWARD_DUPLICATES
    letters = target_rows["notices"]
    assert letters and all(bytes(letter.pdf).startswith(b"%PDF") for letter in letters)
    assert any(row.reporter_contact for row in target_rows["submissions"])
    assert any(row.details.get("text") == "ក្រុម" for row in target_rows["audit_log"])

    assert "DIFFERS" not in result.stdout
    assert "audit chain on the target: OK" in result.stdout
    assert f"{len(source_rows['audit_log']):,} entries" in result.stdout
    assert "Verified: " in result.stdout

    engine = sa.create_engine(_driver(target))
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0020"
        # Every id sequence goes on from its table's largest id.
        for table in db.metadata.tables.values():
            if "id" not in table.c:
                continue
            sequence = connection.scalar(
                sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
            )
            if sequence is None:
                continue
            largest = max((row.id for row in source_rows[table.name]), default=0)
            following = connection.scalar(sa.text("SELECT nextval(:s)"), {"s": sequence})
            assert following == largest + 1, table.name
        connection.rollback()
        # The copy left the audit log's append-only guard as the migrations made it.
        with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"):
            connection.execute(sa.text("UPDATE audit_log SET action = 'changed'"))
    engine.dispose()


def test_the_app_works_on_the_copy_and_ids_go_on(copy_source, new_database):
    target = new_database()
    assert run_copy(copy_source, "--to", target).exit_code == 0
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": target}, clock=FixedClock(NOW))
    with app.app_context():
        largest_case = db.session.scalar(sa.select(sa.func.max(Case.id)))
        largest_submission = db.session.scalar(sa.select(sa.func.max(Case.submission_id)))
        made = factories.report("http://after-the-move.example.com/x").submission
        assert made.id == largest_submission + 1
        assert made.cases[0].id == largest_case + 1
        letter = db.session.scalars(sa.select(Notice).limit(1)).one()
        demo_case = db.session.scalars(sa.select(Case).order_by(Case.id).limit(1)).one()
        pdf = letter.pdf

        client = app.test_client()
        response = client.post(
            "/login", data={"email": "analyst@example.org", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, response.data
        assert client.get("/cases/").status_code == 200
        assert client.get(f"/cases/{demo_case.id}").status_code == 200
        assert client.get(f"/cases/{largest_case}").status_code == 200
        answer = client.get(f"/notices/{letter.id}/pdf")
        assert answer.status_code == 200 and answer.data == pdf

        verify = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert verify.exit_code == 0, verify.output
        db.session.remove()
        db.engine.dispose()


def test_progress_is_a_few_lines_a_second_at_most():
    stream = io.StringIO()
    now = [0.0]
    progress = copy_rows.Progress(stream, interval=0.5, clock=lambda: now[0])
    progress.start("cases", 1000)
    for done in range(0, 1001, 10):
        now[0] += 0.01  # 100 batches a second
        progress.update(done)
    progress.finish(1000)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3  # after 0.5 s, after 1 s, and the end
    assert lines[-1] == "cases: 1,000 / 1,000 rows (100 %)"

    quiet = io.StringIO()
    progress = copy_rows.Progress(quiet, interval=0.5, clock=lambda: now[0])
    progress.start("users", 4)
    progress.update(4)
    progress.finish(4)
    assert quiet.getvalue() == ""  # a table copied at once shows no line


def test_cycles_are_copied_empty_first_and_linked_after():
    metadata = sa.MetaData()
    sa.Table(
        "a",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("b_id", sa.ForeignKey("b.id"), nullable=True),
    )
    sa.Table(
        "b",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a_id", sa.ForeignKey("a.id"), nullable=False),
        sa.Column("parent_id", sa.ForeignKey("b.id")),
    )
    ordered = copy_rows.plan(list(metadata.tables.values()))
    # a.b_id (nullable) waits; b.a_id (NOT NULL) orders the tables: a, then b.
    assert [plan.name for plan in ordered] == ["a", "b"]
    a, b = ordered
    assert [(link.columns, link.forward_only) for link in a.links] == [(("b_id",), False)]
    assert [(link.columns, link.forward_only) for link in b.links] == [(("parent_id",), True)]


def test_a_cycle_through_a_column_that_cannot_wait_is_refused():
    metadata = sa.MetaData()
    sa.Table(
        "a",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("b_id", sa.ForeignKey("b.id"), nullable=False),
    )
    sa.Table(
        "b",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a_id", sa.ForeignKey("a.id"), nullable=False),
    )
    with pytest.raises(CopyRefused, match="the tables a, b refer to each other"):
        copy_rows.plan(list(metadata.tables.values()))

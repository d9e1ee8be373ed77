"""The audit log is a hash chain, append-only in the database, and
`flask audit verify` names the first entry that was tampered with."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from casemgr import context
from casemgr.audit import chain, verification
from casemgr.audit.models import AuditEntry
from casemgr.audit.services import record
from casemgr.database import savepoint
from casemgr.extensions import db
from tests.audit.helpers import write
from tests.conftest import audit_log_unguarded


def entries() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def tamper(sql: str, **params) -> None:
    with db.engine.begin() as connection, audit_log_unguarded(connection):
        connection.execute(sa.text(sql), params)
    db.session.expire_all()


def test_each_entry_carries_the_hash_of_the_one_before(app):
    write(3)
    first, second, third = entries()
    assert first.prev_hash == chain.GENESIS
    assert second.prev_hash == first.entry_hash and third.prev_hash == second.entry_hash
    keys = chain.current_keys()
    assert all(chain.hash_of(entry, keys) == entry.entry_hash for entry in (first, second, third))
    assert {entry.key_id for entry in (first, second, third)} == {keys.current_id}


def test_verify_says_ok_and_counts(runner):
    write(4)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 4 entries")


def test_verify_of_an_empty_log_is_ok(runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "OK: 0 entries" in result.output


@pytest.mark.parametrize(
    ("sql", "broken"),
    [
        ("UPDATE audit_log SET action = 'test.nothing' WHERE id = 3", 3),
        ("UPDATE audit_log SET details = '{\"n\": 99}' WHERE id = 2", 2),
        ("UPDATE audit_log SET actor_id = NULL, target_id = '7' WHERE id = 4", 4),
        ("DELETE FROM audit_log WHERE id = 3", 4),  # the next one's link breaks
        ("DELETE FROM audit_log WHERE id = 1", 2),
    ],
)
def test_verify_names_the_first_broken_entry(runner, sql, broken):
    write(5)
    tamper(sql)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at audit entry {broken} " in result.output


def test_a_rehashed_change_still_breaks_the_next_link(runner):
    """Recomputing the changed entry's own hash (even with the key) is not
    enough: its successor names the old one."""
    write(3)
    second = entries()[1]
    keys = chain.current_keys()
    forged = chain.keyed_hash(
        keys.current,
        key_id=keys.current_id,
        created_at=second.created_at,
        actor_id=None,
        action="test.innocent",
        target_type=second.target_type,
        target_id=second.target_id,
        details=second.details,
        prev_hash=second.prev_hash,
    )
    tamper("UPDATE audit_log SET action = 'test.innocent', entry_hash = :h WHERE id = 2", h=forged)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "BROKEN at audit entry 3 " in result.output


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE id = 1",
    ],
)
def test_the_database_refuses_changes(app, sql):
    write(2)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(sa.text(sql))
    assert len(entries()) == 2


@pytest.mark.postgres
def test_postgresql_refuses_truncate(app, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    write(1)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE audit_log CASCADE"))


def test_a_rolled_back_transaction_writes_nothing(app):
    record(db.session, action="test.never", now=context.now())
    db.session.rollback()
    write(1)
    assert [entry.action for entry in entries()] == ["test.event"]


def test_a_rolled_back_savepoint_drops_what_was_queued_inside_it(app):
    record(db.session, action="test.before", now=context.now())
    with pytest.raises(RuntimeError), savepoint(db.session):
        record(db.session, action="test.undone", now=context.now())
        with savepoint(db.session):  # released, then undone with the one around it
            record(db.session, action="test.undone.inner", now=context.now())
        raise RuntimeError
    with savepoint(db.session):
        record(db.session, action="test.kept", now=context.now())
    db.session.commit()
    assert [entry.action for entry in entries()] == ["test.before", "test.kept"]
    assert verification.verify(db.session, chain.current_keys()).ok


def test_the_entry_is_written_with_the_change_it_records(app, analyst, make):
    case = make.case("new")
    from casemgr.cases import services as cases

    cases.apply_action(
        db.session,
        case,
        "assign",
        {},
        actor=analyst.actor,
        now=context.now(),
        timings=context.timings(),
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "case.action")
        )
        == 0
    )  # not before the commit
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.action"))
    assert entry.target_id == str(case.id) and entry.actor_id == analyst.id
    assert entry.details["from"] == "new" and entry.details["to"] == "triage"


def test_concurrent_writers_do_not_fork_the_chain(app, runner):
    """Threads with their own connections append at once; the chain stays one line."""
    threads, per_thread = 4, 5
    barrier = threading.Barrier(threads)
    failures = []

    def worker(number: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for index in range(per_thread):
                    record(
                        db.session,
                        action="test.concurrent",
                        now=context.now(),
                        details={"thread": number, "index": index},
                    )
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    running = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(60)
    assert not failures, failures
    assert len(entries()) == threads * per_thread
    hashes = [entry.prev_hash for entry in entries()]
    assert len(set(hashes)) == len(hashes)  # no two entries follow the same one
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output

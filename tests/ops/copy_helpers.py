"""Fixtures of the ``db copy`` tests: a SQLite installation made by the demo plus
generated cases, and fresh PostgreSQL databases migrated to head (made from a
template, so that each test gets its own in a moment)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from casemgr import context, create_app
from casemgr.audit.services import record
from casemgr.auth.models import User
from casemgr.cases.models import Case, CaseEvent, Submission
from casemgr.clock import FixedClock
from casemgr.demo import load_demo
from casemgr.directory.models import Organisation
from casemgr.extensions import db
from casemgr.notices.wording import NoticeSettings
from tests.conftest import NOW, _driver, _postgres_admin_url, migrate_to_head

GENERATED_CASES = 3000
# Cases closed as duplicates of a newer case: their link waits for the newer row.
FORWARD_DUPLICATES = 25
OPEN_STATES = ("new", "triage", "action_required", "notice_pending", "notice_sent")
OPEN_STATES += ("forwarded", "with_police")


def source_app(path) -> Flask:
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}, clock=FixedClock(NOW)
    )


@pytest.fixture(scope="session")
def copy_source(tmp_path_factory) -> str:
    """The path of a SQLite installation: the demo, then GENERATED_CASES more cases
    (with events, encrypted contacts, police holds, forward duplicate links) and
    audit entries. The copy only reads it, so every test shares it."""
    path = tmp_path_factory.mktemp("copy") / "source.db"
    migrate_to_head(f"sqlite:///{path}")
    app = source_app(path)
    with app.app_context():
        load_demo(
            db.session,
            now=NOW,
            timings=context.timings(),
            cipher=context.cipher(),
            prefix=context.reference_prefix(),
            notice_settings=NoticeSettings.from_app(app),
        )
        db.session.commit()
        add_generated_cases(GENERATED_CASES)
        for number in range(200):
            record(
                db.session,
                action="test.generated",
                now=NOW,
                target_type="thing",
                target_id=number,
                details={"n": number, "text": "ក្រុម", "nested": {"a": None, "b": [1.5, True]}},
            )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return str(path)


def add_generated_cases(count: int) -> None:
    """``count`` submissions of one case each, in every state, written in bulk
    (the workflow is not what is tested here: the values' types are)."""
    session = db.session
    staff = session.scalars(sa.select(User.id).order_by(User.id)).all()
    organisations = session.scalars(sa.select(Organisation.id).order_by(Organisation.id)).all()
    first_submission = (session.scalar(sa.select(sa.func.max(Submission.id))) or 0) + 1
    first_case = (session.scalar(sa.select(sa.func.max(Case.id))) or 0) + 1
    cipher = context.cipher()
    submissions, cases, events = [], [], []
    for number in range(count):
        at = NOW - timedelta(days=400) + timedelta(minutes=97 * number, microseconds=number)
        state = OPEN_STATES[number % 8] if number % 8 < 7 else "closed"
        submission_id, case_id = first_submission + number, first_case + number
        url = f"http://host{number % 37}.example.com/gen/{number}?q=ក"
        submissions.append(
            {
                "id": submission_id,
                "reference": f"GEN-S-{number:06d}",
                "source": "public" if number % 3 else "partner",
                "received_at": at,
                "description": "generated ✓ ឯកសារ" if number % 5 == 0 else "",
                "reporter_contact": cipher.encrypt(f"reporter{number}@example.net")
                if number % 4 == 0
                else None,
                "feedback_requested": number % 4 == 0,
                "language": "km" if number % 2 else None,
            }
        )
        duplicate = state == "closed" and number < FORWARD_DUPLICATES * 8
        cases.append(
            {
                "id": case_id,
                "reference": f"GEN-{number:06d}",
                "submission_id": submission_id,
                "url": url,
                "url_hash": hashlib.sha256(url.encode()).hexdigest(),
                "host": f"host{number % 37}.example.com",
                "status": state,
                "resolution": ("duplicate" if duplicate else "not_illegal")
                if state == "closed"
                else None,
                "assignee_id": staff[number % len(staff)] if state != "new" else None,
                "provider_id": organisations[number % len(organisations)]
                if state in ("notice_pending", "notice_sent")
                else None,
                "police_hold": state == "with_police" and number % 16 == 6,
                "received_at": at,
                "assigned_at": at + timedelta(hours=1) if state != "new" else None,
                "closed_at": at + timedelta(days=2) if state == "closed" else None,
                "reminder_count": number % 3,
                "updated_at": at + timedelta(days=2),
                "version": 1 + number % 5,
            }
        )
        events.append(
            {
                "case_id": case_id,
                "action": "receive",
                "to_status": "new",
                "fields": {"source": "public", "note": "ក", "none": None},
                "created_at": at,
            }
        )
        if state != "new":
            events.append(
                {
                    "case_id": case_id,
                    "actor_id": staff[number % len(staff)],
                    "action": "assign",
                    "from_status": "new",
                    "to_status": "triage",
                    "fields": {"assignee_id": staff[number % len(staff)]},
                    "created_at": at + timedelta(hours=1),
                }
            )
    session.execute(sa.insert(Submission), submissions)
    session.execute(sa.insert(Case), cases)
    # Duplicates of the next case: links to rows that the copy has not written yet.
    session.execute(
        sa.update(Case)
        .where(Case.reference.like("GEN-%"), Case.resolution == "duplicate")
        .values(duplicate_of_id=Case.id + 1)
    )
    session.execute(sa.insert(CaseEvent), events)
    session.commit()


@pytest.fixture(scope="session")
def copy_template() -> Iterator[tuple[sa.Engine, str]]:
    """A PostgreSQL database migrated to head, to make targets from; and an
    engine on the server's maintenance database."""
    admin_url = _postgres_admin_url()
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL is not set")
    admin = sa.create_engine(_driver(admin_url), isolation_level="AUTOCOMMIT")
    name = f"casemgr_copytpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        migrate_to_head(url_of(name))
        yield admin, name
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def url_of(name: str) -> str:
    """A URL of the test server's database ``name``, as an operator writes it."""
    return (
        sa.make_url(_postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
    )


@pytest.fixture
def new_database(copy_template) -> Iterator:
    """Make PostgreSQL databases for one test (migrated by default, or ``empty``);
    returns their URLs and drops them all afterwards."""
    admin, template = copy_template
    made = []

    def make(*, migrated: bool = True) -> str:
        name = f"casemgr_copy_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if migrated else "")
                )
            )
        made.append(name)
        return url_of(name)

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def recreate(copy_template, url: str) -> None:
    """Drop the database of ``url`` and make it again, migrated (what the operator does)."""
    admin, template = copy_template
    name = sa.make_url(url).database
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))


def file_digests(path: str) -> dict[str, str | None]:
    """SHA-256 of the SQLite file and of its WAL (None: absent or empty)."""
    found: dict[str, str | None] = {}
    for suffix in ("", "-wal"):
        name = path + suffix
        if os.path.exists(name) and os.path.getsize(name):
            with open(name, "rb") as handle:
                found[suffix or "db"] = hashlib.sha256(handle.read()).hexdigest()
        else:
            found[suffix or "db"] = None
    return found

"""casemgr/database.py: the savepoint that holds on every backend."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from casemgr.database import savepoint
from casemgr.extensions import db
from casemgr.stats.models import MonthlyReport
from tests.conftest import NOW


def _report(month: date) -> MonthlyReport:
    return MonthlyReport(
        month=month, pdf=b"%PDF", sha256="0" * 64, size=4, as_of=NOW, created_at=NOW
    )


def _committed_months() -> list[date]:
    """What another connection sees: only what was committed."""
    with db.engine.connect() as other:
        return list(other.execute(sa.text("SELECT month FROM monthly_reports")).scalars())


def test_what_a_savepoint_wrote_waits_for_the_session_to_commit(app):
    # On SQLite a savepoint taken before any write would be released as a COMMIT.
    db.session.execute(sa.select(1))
    with savepoint(db.session):
        db.session.add(_report(date(2026, 10, 1)))
        db.session.flush()
    assert _committed_months() == []
    db.session.rollback()
    assert _committed_months() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyReport)) == 0


def test_an_error_in_a_savepoint_undoes_only_what_was_done_inside(app):
    db.session.add(_report(date(2026, 9, 1)))
    db.session.flush()
    with pytest.raises(IntegrityError), savepoint(db.session):
        db.session.add(_report(date(2026, 9, 1)))
        db.session.flush()
    db.session.add(_report(date(2026, 10, 1)))
    db.session.commit()
    assert sorted(str(month)[:10] for month in _committed_months()) == [
        "2026-09-01",
        "2026-10-01",
    ]

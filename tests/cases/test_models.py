"""Rules the Case model states twice, in Python and in SQL, must agree."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from casemgr.cases.models import Case
from casemgr.extensions import db
from tests.conftest import NOW


def test_overdue_in_sql_is_overdue_in_python(make):
    cases = {
        "open, past due": make.case("new"),
        "open, due later": make.case("triage"),
        "open, no deadline": make.case("notice_pending"),
        "closed, past due": make.case("closed"),
    }
    cases["open, past due"].due_at = NOW - timedelta(minutes=1)
    cases["open, due later"].due_at = NOW + timedelta(hours=1)
    cases["open, no deadline"].due_at = None
    cases["closed, past due"].due_at = NOW - timedelta(days=2)
    db.session.flush()

    in_sql = set(db.session.scalars(select(Case.id).where(Case.overdue_at(NOW))))
    in_python = {case.id for case in cases.values() if case.is_overdue(NOW)}
    assert in_sql == in_python == {cases["open, past due"].id}

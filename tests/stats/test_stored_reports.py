"""Reading stored monthly reports back (casemgr/stats/stored_reports.py)."""

from __future__ import annotations

import pytest

from casemgr.errors import NotFound
from casemgr.extensions import db
from casemgr.stats.selection import Period
from casemgr.stats.stored_reports import get_report, list_reports
from tests.stats.test_operations import OCTOBER, store


@pytest.mark.parametrize("name", ["2026-09", "2026-13", "2026-1", "x", "2026-10-01", "9999-99"])
def test_get_report_of_a_month_not_stored(app, name):
    with pytest.raises(NotFound, match="No report of"):
        get_report(db.session, name)


def test_list_reports_newest_month_first(app, supervisor):
    store(Period.month(2026, 9), actor=supervisor.actor)
    store(OCTOBER)
    store(Period.month(2025, 12))
    listed = list_reports(db.session)
    assert [f"{r.month:%Y-%m}" for r in listed] == ["2026-10", "2026-09", "2025-12"]
    assert listed[1].created_by.name == supervisor.name and listed[0].created_by is None

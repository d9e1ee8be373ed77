"""``flask jobs run notifications``: overdue cases reach their assignee, or the
supervisors when nobody active has them (the rules: tests/notifications)."""

from __future__ import annotations

from sqlalchemy import select

from casemgr.extensions import db
from casemgr.notifications.models import Notification


def overdue_notifications() -> list[tuple[int, int]]:
    """(user id, case id) of every overdue notification."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Notification.user_id, Notification.case_id)
        .where(Notification.kind == "overdue")
        .order_by(Notification.user_id, Notification.case_id)
    )
    return [(user_id, case_id) for user_id, case_id in rows]


def test_the_run_tells_assignees_and_the_supervisors_once(app, runner, make, analyst, supervisor):
    second = make.user("supervisor")
    make.user("supervisor", active=False)
    make.user("admin")
    mine = make.case("triage", by=analyst)  # received a day ago: due now
    nobodys = make.case("new")
    command = ["jobs", "run", "notifications", "--now", "2026-11-28T10:00Z"]
    result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "notifications as of 2026-11-28T10:00:00+00:00: 3 overdue notified; 0 errors"
    ]
    assert overdue_notifications() == sorted(
        [(analyst.id, mine.id), (supervisor.id, nobodys.id), (second.id, nobodys.id)]
    )
    again = runner.invoke(args=command)
    assert again.exit_code == 0, again.output
    assert "0 overdue notified" in again.output
    assert len(overdue_notifications()) == 3

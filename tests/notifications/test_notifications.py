"""Staff notifications: assigned to you, overdue (once per due time), escalation;
the count in the menu, marking read, and who may see what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from casemgr.auth import accounts
from casemgr.extensions import db
from casemgr.jobs import notifications as notifications_job
from casemgr.notifications import services as notifications
from casemgr.notifications.models import Notification
from tests.conftest import NOW, login
from tests.jobs.conftest import act, run_notices, run_reminders

H = timedelta(hours=1)


def mine(user) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        ).all()
    )


def run_job(app, now):
    summary = notifications_job.run(db.session, now, app)
    db.session.commit()
    return summary


# ------------------------------------------------------------------ assigned


def test_a_case_given_to_you_is_notified(app, make, analyst, supervisor):
    case = make.case("new")
    act(case, "assign", {"assignee_id": analyst.id}, user=supervisor, at=NOW)
    db.session.commit()
    [notification] = mine(analyst)
    assert notification.kind == "assigned" and notification.case_id == case.id
    assert notification.message == f"{supervisor.name} assigned {case.reference} to you."
    assert mine(supervisor) == []


def test_taking_a_case_yourself_is_not_notified(app, make, analyst):
    make.case("triage", by=analyst)
    assert mine(analyst) == []


# ------------------------------------------------------------------- overdue


def test_overdue_is_notified_once_per_due_time(app, make, analyst, supervisor):
    case = make.case("triage", by=analyst)  # received a day ago: assessment due now
    assert case.due_at == NOW
    assert run_job(app, NOW).counts["overdue"] == 0  # due, not yet past
    summary = run_job(app, NOW + H)
    assert summary.counts["overdue"] == 1
    assert summary.line() == (
        "notifications as of 2026-11-28T10:00:00+00:00: 1 overdue notified; 0 errors"
    )
    [notification] = mine(analyst)
    assert notification.kind == "overdue" and notification.step_at == NOW
    assert f"{case.reference} is overdue" in notification.message
    # again, and again later: nothing new
    assert run_job(app, NOW + 2 * H).counts["overdue"] == 0
    assert run_job(app, NOW + 48 * H).counts["overdue"] == 0
    # a new due time (reopened) is notified again when it passes
    act(case, "assess", {"classification": "not_illegal"}, user=analyst, at=NOW + 50 * H)
    act(case, "reopen", {"reason": "wrong call"}, user=supervisor, at=NOW + 51 * H)
    db.session.commit()
    assert run_job(app, NOW + 76 * H).counts["overdue"] == 1
    assert [n.kind for n in mine(analyst)] == ["overdue", "overdue"]


def test_closed_cases_are_not_notified(app, make, analyst, supervisor):
    make.case("closed", by=analyst)
    assert run_job(app, NOW + 100 * H).counts["overdue"] == 0
    assert mine(analyst) == mine(supervisor) == []


# ------------------------------------------- overdue with nobody to work it


def deactivate(user, *, by) -> None:
    accounts.update_user(
        db.session,
        user,
        accounts.AccountInput(email=user.email, name=user.name, role=user.role, active=False),
        now=NOW,
        actor=by.actor,
    )
    db.session.commit()


def test_an_unassigned_overdue_case_notifies_each_active_supervisor_once(
    app, make, analyst, supervisor, admin
):
    second = make.user("supervisor")
    gone = make.user("supervisor", active=False)
    case = make.case("new")  # received a day ago: assessment due now
    assert case.due_at == NOW and case.assignee_id is None
    assert run_job(app, NOW).counts["overdue"] == 0  # due, not yet past
    assert run_job(app, NOW + H).counts["overdue"] == 2
    for person in (supervisor, second):
        [notification] = mine(person)
        assert notification.kind == "overdue" and notification.case_id == case.id
        assert notification.step_at == NOW
        assert notification.message == (
            f"{case.reference} is overdue and nobody is assigned to it: "
            "it was due 2026-11-28 09:00 UTC."
        )
    # neither the inactive supervisor, nor the admin, nor the analyst
    assert mine(gone) == mine(admin) == mine(analyst) == []
    # again, and again later: nothing new
    assert run_job(app, NOW + 2 * H).counts["overdue"] == 0
    assert run_job(app, NOW + 48 * H).counts["overdue"] == 0
    assert len(mine(supervisor)) == len(mine(second)) == 1


def test_a_case_whose_assignee_is_deactivated_goes_to_the_supervisors(
    app, make, analyst, supervisor, admin
):
    case = make.case("triage", by=analyst)
    deactivate(analyst, by=admin)
    assert run_job(app, NOW + H).counts["overdue"] == 1
    [notification] = mine(supervisor)
    assert notification.message == (
        f"{case.reference} is overdue and its assignee, {analyst.name}, is deactivated: "
        "it was due 2026-11-28 09:00 UTC."
    )
    assert mine(analyst) == mine(admin) == []
    assert run_job(app, NOW + 2 * H).counts["overdue"] == 0


def test_the_supervisors_hear_when_the_assignee_told_is_deactivated(
    app, make, analyst, supervisor, admin
):
    make.case("triage", by=analyst)
    assert run_job(app, NOW + H).counts["overdue"] == 1
    assert [n.kind for n in mine(analyst)] == ["overdue"] and mine(supervisor) == []
    deactivate(analyst, by=admin)
    assert run_job(app, NOW + 2 * H).counts["overdue"] == 1
    assert [n.kind for n in mine(supervisor)] == ["overdue"]
    assert run_job(app, NOW + 3 * H).counts["overdue"] == 0


def test_a_new_due_time_notifies_the_supervisors_again(app, make, analyst, supervisor, admin):
    case = make.case("triage", by=analyst)
    deactivate(analyst, by=admin)
    assert run_job(app, NOW + H).counts["overdue"] == 1
    # assessed and reopened by the supervisor: a new assessment deadline, still
    # with the deactivated assignee
    for action, fields, at in (
        ("assess", {"classification": "not_illegal"}, NOW + 2 * H),
        ("reopen", {"reason": "wrong call"}, NOW + 3 * H),
    ):
        act(case, action, fields, user=supervisor, at=at)
    db.session.commit()
    assert case.due_at == NOW + 27 * H and case.assignee_id == analyst.id
    assert run_job(app, NOW + 27 * H).counts["overdue"] == 0
    assert run_job(app, NOW + 28 * H).counts["overdue"] == 1
    assert [n.step_at for n in mine(supervisor)] == [NOW, NOW + 27 * H]
    assert run_job(app, NOW + 29 * H).counts["overdue"] == 0


def test_an_overdue_case_given_out_is_notified_to_its_new_assignee(app, make, analyst, supervisor):
    case = make.case("new")
    assert run_job(app, NOW + H).counts["overdue"] == 1  # the supervisor
    act(case, "assign", {"assignee_id": analyst.id}, user=supervisor, at=NOW + 2 * H)
    db.session.commit()
    assert run_job(app, NOW + 3 * H).counts["overdue"] == 1  # the analyst, now theirs
    assert [n.kind for n in mine(analyst)] == ["assigned", "overdue"]
    assert len(mine(supervisor)) == 1
    assert run_job(app, NOW + 4 * H).counts["overdue"] == 0


def test_without_an_active_supervisor_the_admins_are_notified(app, make, admin):
    make.user("supervisor", active=False)
    other_admin = make.user("admin")
    make.user("admin", active=False)
    make.case("new")
    assert run_job(app, NOW + H).counts["overdue"] == 2
    assert len(mine(admin)) == len(mine(other_admin)) == 1
    # a supervisor appointed later is not told of what the admins were told
    make.user("supervisor")
    assert run_job(app, NOW + 2 * H).counts["overdue"] == 0


def test_with_nobody_to_tell_the_unassigned_cases_do_not_hold_up_the_others(app, make, analyst):
    for _ in range(3):
        make.case("new")  # nobody is a supervisor or an admin: nobody to tell
    assigned = make.case("triage", by=analyst, at=NOW - 23 * H)  # due an hour later
    made = notifications.notify_overdue(db.session, now=NOW + 2 * H, limit=1)
    db.session.commit()
    assert made == 1
    assert [n.case_id for n in mine(analyst)] == [assigned.id]


def test_a_run_is_limited_and_the_next_run_goes_on(app, make, supervisor):
    first, second, third = (make.case("new", at=NOW - (24 - hour) * H) for hour in range(3))
    assert notifications.notify_overdue(db.session, now=NOW + 3 * H, limit=2) == 2
    assert notifications.notify_overdue(db.session, now=NOW + 3 * H, limit=2) == 1
    db.session.commit()
    assert [n.case_id for n in mine(supervisor)] == [first.id, second.id, third.id]


def test_many_overdue_cases_take_a_bounded_number_of_queries(app, make, supervisor, monkeypatch):
    make.user("supervisor")
    for _ in range(5):
        make.case("new")
    monkeypatch.setattr(notifications, "_INSERT_CHUNK", 4)
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        made = notifications.notify_overdue(db.session, now=NOW + H)
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert made == 10
    # the supervisors, the cases, then 10 notifications 4 at a time
    assert [s for s in statements if s in ("SELECT", "INSERT")] == ["SELECT", "SELECT"] + [
        "INSERT"
    ] * 3


@pytest.mark.postgres
def test_two_runs_at_once_notify_once(app, backend, make, analyst, supervisor):
    if backend != "postgresql":
        pytest.skip("needs concurrent writers: PostgreSQL")
    import threading

    make.user("supervisor")
    for _ in range(5):
        make.case("triage", by=analyst)
    for _ in range(3):
        make.case("new")  # each to both supervisors
    db.session.remove()
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        with app.app_context():
            try:
                barrier.wait(10)
                notifications_job.run(db.session, NOW + H, app)
                db.session.commit()
            except Exception as exc:  # pragma: no cover
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(db.session.scalars(select(Notification)).all()) == 5 + 3 * 2


# ---------------------------------------------------------------- escalation


def test_an_escalation_notifies_the_assignee(app, make, queue, analyst):
    case = queue(make.organisation())
    run_notices(app, NOW)
    for hours in (72, 144, 216):
        run_reminders(app, NOW + hours * H)
    escalations = [n for n in mine(analyst) if n.kind == "escalation"]
    assert len(escalations) == 1
    assert escalations[0].notice.kind == "escalation"
    assert "still not confirmed" in escalations[0].message
    assert escalations[0].case_id == case.id


# -------------------------------------------------------------- screens


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("path", ["/notifications/1/read", "/notifications/read-all"])
def test_anonymous_cannot_post(client, path):
    response = client.post(path)
    assert response.status_code == 302 and "/login" in response.location


def test_the_count_in_the_menu_and_marking_read(client, make, analyst, supervisor):
    for _ in range(2):
        case = make.case("new")
        act(case, "assign", {"assignee_id": analyst.id}, user=supervisor, at=NOW)
    db.session.commit()
    login(client, analyst)
    page = client.get("/cases/").get_data(as_text=True)
    assert "Notifications (2)" in page
    listing = client.get("/notifications/").get_data(as_text=True)
    assert listing.count("assigned") >= 2
    first, second = mine(analyst)
    client.post(f"/notifications/{first.id}/read")
    assert "Notifications (1)" in client.get("/cases/").get_data(as_text=True)
    unread = client.get("/notifications/?show=unread").get_data(as_text=True)
    assert f"/notifications/{second.id}/read" in unread
    assert f"/notifications/{first.id}/read" not in unread
    client.post("/notifications/read-all")
    assert "Notifications (0)" in client.get("/cases/").get_data(as_text=True)
    assert all(n.read_at == NOW for n in mine(analyst))


def test_nobody_marks_another_persons_notification(client, make, analyst, supervisor):
    other = make.user("analyst")
    case = make.case("new")
    act(case, "assign", {"assignee_id": other.id}, user=supervisor, at=NOW)
    db.session.commit()
    [notification] = mine(other)
    login(client, analyst)
    assert client.post(f"/notifications/{notification.id}/read").status_code == 404
    assert client.post(f"/notifications/{2**31}/read").status_code == 404
    assert notification.id not in [n.id for n in notifications.list_for(db.session, analyst.id)]
    assert mine(other)[0].read_at is None

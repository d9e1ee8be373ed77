"""The supervisors' alerts page: the count in the navigation, the list, resolving, access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr.alerts.models import Alert
from casemgr.audit.models import AuditEntry
from casemgr.extensions import db
from casemgr.notices.models import Notice
from tests.conftest import NOW, login
from tests.jobs.conftest import alerts, run_notices, run_reminders

H = timedelta(hours=1)


@pytest.fixture
def sent(app, make, queue):
    """Two providers' notices (one provider without e-mail), made by the run."""
    first = make.organisation(name="Alpha Hosting")
    offline = make.organisation(name="Offline Host", email=None)
    cases = [queue(first), queue(first), queue(offline)]
    run_notices(app, NOW)
    return cases


def make_alert() -> Alert:
    alert = Alert(kind="hold_review", key="test:1", message="Look at this", created_at=NOW)
    db.session.add(alert)
    db.session.commit()
    return alert


# ---------------------------------------------------------------------- access

GET_SUPERVISOR = ["/notices/alerts", "/notices/alerts?show=resolved"]
POST_SUPERVISOR = [("/notices/alerts/1/resolve", {})]


@pytest.mark.parametrize("path", GET_SUPERVISOR)
def test_anonymous_is_sent_to_sign_in(client, sent, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize(("path", "data"), POST_SUPERVISOR)
def test_anonymous_cannot_post(client, sent, path, data):
    response = client.post(path, data=data)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("path", GET_SUPERVISOR)
def test_analysts_cannot_open_supervisor_pages(client, sent, analyst, path):
    assert login(client, analyst).get(path).status_code == 403


@pytest.mark.parametrize(("path", "data"), POST_SUPERVISOR)
def test_analysts_cannot_resolve(client, sent, analyst, path, data):
    make_alert()
    response = login(client, analyst).post(path, data=data)
    assert response.status_code == 403
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action.like("alert%"))) is None
    assert all(a.resolved_at is None for a in alerts())


# ---------------------------------------------------------------------- the page


def test_alerts_count_in_the_nav_and_resolving(client, sent, supervisor, analyst, app):
    for hours in (72, 144, 216):
        run_reminders(app, NOW + hours * H)
    make_alert()
    open_alerts = alerts()
    # both providers' cases escalate to the supervisors: one letter, one alert
    assert [a.kind for a in open_alerts] == ["escalation", "hold_review"]
    login(client, supervisor)
    html = client.get("/cases/").get_data(as_text=True)
    assert "Alerts (2)" in html and "Letters" in html
    page = client.get("/notices/alerts").get_data(as_text=True)
    assert open_alerts[0].message in page
    escalation = db.session.get(Notice, open_alerts[0].notice_id)
    assert f"/notices/{escalation.id}/pdf" in page
    response = client.post(f"/notices/alerts/{open_alerts[0].id}/resolve")
    assert response.status_code == 302
    assert "Alerts (1)" in client.get("/cases/").get_data(as_text=True)
    resolved = client.get("/notices/alerts?show=resolved").get_data(as_text=True)
    assert open_alerts[0].message in resolved and supervisor.name in resolved
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "alert.resolve"))
    assert entry.actor_id == supervisor.id
    again = client.post(f"/notices/alerts/{open_alerts[0].id}/resolve", follow_redirects=True)
    assert "resolved already" in again.get_data(as_text=True)
    assert client.post("/notices/alerts/99999/resolve").status_code == 404
    assert client.post(f"/notices/alerts/{2**40}/resolve").status_code == 404

    client.post("/logout")
    analyst_page = login(client, analyst).get("/cases/").get_data(as_text=True)
    assert "Alerts (" not in analyst_page

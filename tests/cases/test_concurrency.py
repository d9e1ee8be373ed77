"""No lost updates: two people acting on one case at the same moment, for real
(two threads, two clients, two database connections). Exactly one succeeds;
the other gets 409 naming who changed the case.

A barrier inside apply_action holds both requests until each has read the
case (and passed the version check in Python), so both really race for the
UPDATE: the version in its WHERE clause lets one through, and the other's
StaleDataError must become a 409, on the page and in the API alike.
"""

from __future__ import annotations

import threading

import pytest

from casemgr import context
from casemgr.auth.tokens import issue_token
from casemgr.cases import services
from casemgr.cases.models import Case, CaseEvent
from casemgr.extensions import db
from tests.conftest import login


@pytest.fixture
def race(app, monkeypatch):
    """Runs two requests at once; returns their responses."""
    barrier = threading.Barrier(2, timeout=20)
    real = services.apply_action

    def apply_together(*args, **kwargs):
        barrier.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "apply_action", apply_together)

    def run(first, second):
        responses: dict[int, object] = {}
        errors: list[BaseException] = []

        def go(index, request):
            try:
                responses[index] = request()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=go, args=(i, r)) for i, r in enumerate((first, second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        return responses[0], responses[1]

    return run


@pytest.mark.parametrize("send_version", [True, False], ids=["with-version", "without"])
def test_two_analysts_on_one_case_in_the_browser(app, make, race, send_version):
    one, two = make.user("analyst", name="Ana One"), make.user("analyst", name="Bo Two")
    case = make.case("new")
    initial = case.version
    clients = {one.id: login(app.test_client(), one), two.id: login(app.test_client(), two)}
    data = {"assign-version": str(case.version)} if send_version else {}
    path = f"/cases/{case.id}/actions/assign"  # read here: the threads have no app context

    def act(user):
        client = clients[user.id]
        return lambda: client.post(path, data=data)

    first, second = race(act(one), act(two))
    # Both go back to the case page (post/redirect/get); the loser's says why.
    assert [first.status_code, second.status_code] == [303, 303]
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    winner, loser = (one, two) if stored.assignee_id == one.id else (two, one)
    text = clients[loser.id].get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"changed by {winner.name}" in text
    assert stored.status == "triage" and stored.version == initial + 1
    events = db.session.query(CaseEvent).filter_by(case_id=case.id, action="assign").count()
    assert events == 1


@pytest.mark.parametrize("send_version", [True, False], ids=["if-match", "without"])
def test_two_clients_on_one_case_in_the_api(app, make, race, send_version):
    one, two = make.user("analyst", name="Ana One"), make.user("supervisor", name="Sam Two")
    case = make.case("new")
    initial = case.version
    tokens = {}
    for user in (one, two):
        tokens[user.id] = issue_token(db.session, user, now=context.now())
    db.session.commit()

    path = f"/api/v1/cases/{case.id}/actions/assign"  # read here: the threads have no app context

    def act(user):
        headers = {"Authorization": f"Bearer {tokens[user.id]}"}
        if send_version:
            headers["If-Match"] = f'"{case.version}"'
        client = app.test_client()
        return lambda: client.post(path, json={}, headers=headers)

    first, second = race(act(one), act(two))
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    loser = first if first.status_code == 409 else second
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    winner = one if stored.assignee_id == one.id else two
    body = loser.get_json()
    assert body["error"] == "stale_version"
    assert f"changed by {winner.name}" in body["message"]
    assert body["version"] == stored.version == initial + 1

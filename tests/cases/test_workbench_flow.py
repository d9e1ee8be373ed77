"""Issue 12's "done when", through the API: a 50-URL report on one host goes
from new to notice_pending for one provider with one token and three bulk
requests (take, assess, request_notice), each case on its own way through
the workflow. The browser's version is tests/e2e/test_workbench_browser.py."""

from __future__ import annotations

from sqlalchemy import select

from casemgr.cases.models import Case, CaseEvent
from casemgr.extensions import db
from tests.factories import ILLEGAL

URLS = [f"https://big.example.com/album/{n}" for n in range(50)]


def test_fifty_urls_on_one_host_from_new_to_notice_pending_in_three_requests(
    anonymous, analyst, token_for, make
):
    provider = make.organisation(name="Big Host Ltd", domains="example.com")
    make.report("https://other.example.org/x")  # not part of the selection
    ids = [case.id for case in make.report(*URLS).submission.cases]
    assert len(ids) == 50
    api = anonymous.as_token(token_for(analyst))

    for action, fields, state in (
        ("take", {}, "triage"),
        ("assess", dict(ILLEGAL), "action_required"),
        ("request_notice", {"provider_id": provider.id}, "notice_pending"),
    ):
        response = api.post(f"/api/v1/cases/actions/{action}", json={"case_ids": ids, **fields})
        assert response.status_code == 200, (action, response.get_json())
        results = response.get_json()["results"]
        assert [result["id"] for result in results] == ids, action
        assert all(result["ok"] for result in results), [r for r in results if not r["ok"]]
        assert {result["case"]["status"] for result in results} == {state}, action

    db.session.expire_all()
    cases = db.session.scalars(select(Case).where(Case.id.in_(ids))).all()
    assert len(cases) == 50
    for case in cases:
        assert (case.status, case.provider_id, case.assignee_id) == (
            "notice_pending",
            provider.id,
            analyst.id,
        )
    events = db.session.execute(
        select(CaseEvent.case_id, CaseEvent.action).where(CaseEvent.case_id.in_(ids))
    ).all()
    for case_id in ids:
        mine = [action for owner, action in events if owner == case_id]
        assert {"assign", "assess", "request_notice"} <= set(mine), (case_id, mine)
    other = db.session.scalar(select(Case).where(Case.host == "other.example.org"))
    assert (other.status, other.assignee_id) == ("new", None)

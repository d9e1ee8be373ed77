"""What a provider answered, in the API: the case's fields and the list's view
(each answer checked against the OpenAPI document by the test client)."""

from __future__ import annotations

from casemgr.extensions import db
from tests.responses.test_views import answer, reload


def test_the_case_shows_the_answers_and_the_reported_removal(client, send_letter, as_analyst):
    sent = send_letter(2)
    answer(
        client,
        sent,
        {
            0: {"answer": "removed"},
            1: {"answer": "not_hosted", "hosted_by": "Other Cloud Inc."},
        },
    )
    first = as_analyst.get(f"/api/v1/cases/{sent.cases[0].id}").json
    assert first["removal_reported_by"] == "provider"
    assert first["removal_reported_at"] is not None
    assert first["attention"] is None
    (given,) = first["provider_responses"]
    assert given["answer"] == "removed" and given["notice"] == sent.notice.reference
    assert given["organisation"] == "Example Hosting Ltd"
    second = as_analyst.get(f"/api/v1/cases/{sent.cases[1].id}").json
    assert second["attention"] == "not_hosted" and second["status"] == "action_required"
    assert second["provider_responses"][0]["hosted_by"] == "Other Cloud Inc."


def test_the_removal_reported_view_lists_the_cases_to_verify(client, send_letter, as_analyst):
    sent = send_letter(3)
    answer(client, sent, {1: {"answer": "removed"}})
    body = as_analyst.get("/api/v1/cases", query_string={"view": "removal_reported"}).json
    assert [item["id"] for item in body["items"]] == [sent.cases[1].id]
    # Verified: the case closes and leaves the view.
    case = reload(sent.cases[1])
    response = as_analyst.post(
        f"/api/v1/cases/{case.id}/actions/confirm_takedown",
        json={"removed_at": case.removal_reported_at.isoformat()},
    )
    assert response.status_code == 200
    db.session.expire_all()
    body = as_analyst.get("/api/v1/cases", query_string={"view": "removal_reported"}).json
    assert body["items"] == []


def test_a_client_that_knows_nothing_of_views_gets_what_it_always_got(as_analyst, send_letter):
    send_letter(1)
    assert as_analyst.get("/api/v1/cases").json["total"] == 1
    assert as_analyst.get("/api/v1/cases", query_string={"overdue": "true"}).status_code == 200


def test_a_bad_view_is_named(as_analyst):
    response = as_analyst.get("/api/v1/cases", query_string={"view": "gone"})
    assert response.status_code == 422
    assert "view" in response.json["fields"]
    # overdue=true narrows any view (docs/api.md, "What changed").
    both = as_analyst.get("/api/v1/cases", query_string={"view": "open", "overdue": "true"})
    assert both.status_code == 200

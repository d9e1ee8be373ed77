"""POST /api/v1/cases/actions/<action>: one action on many cases through the API.

Every answer is checked against the OpenAPI document by the API test client.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.cases import bulk
from casemgr.cases.models import Case, CaseEvent
from casemgr.extensions import db
from tests.jobs.conftest import run_notices


def bulk_act(client, action, body):
    return client.post(f"/api/v1/cases/actions/{action}", json=body)


def single(client, case_id, action, body=None):
    return client.post(f"/api/v1/cases/{case_id}/actions/{action}", json=body)


def counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(CaseEvent)),
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
        db.session.scalar(select(func.sum(Case.version))) or 0,
    )


# What each bulk action needs: a case it can be taken on, and its fields.
def _setups(make, analyst):
    provider = make.organisation("hosting_provider")
    partner = make.organisation("hotline", country="KH")
    police = make.organisation("police")
    original = make.case("triage", by=analyst)
    removed = (context.now() - timedelta(hours=1)).isoformat()
    return {
        "take": ("new", {}, "triage"),
        "assign": ("new", {"assignee_id": analyst.id}, "triage"),
        "assess": ("triage", dict(make.ILLEGAL), "action_required"),
        "mark_duplicate": ("new", {"duplicate_of": original.reference}, "closed"),
        "close_unavailable": ("triage", {}, "closed"),
        "request_notice": ("action_required", {"provider_id": provider.id}, "notice_pending"),
        "forward_to_partner": ("action_required", {"partner_id": partner.id}, "forwarded"),
        "refer_to_police": ("notice_sent", {"police_id": police.id, "hold": False}, "with_police"),
        "confirm_takedown": ("notice_sent", {"removed_at": removed}, "closed"),
    }


WORKFLOW_ACTIONS = [action for action in bulk.BULK_ACTIONS if bulk.workflow_action(action)]


@pytest.mark.parametrize("action", WORKFLOW_ACTIONS)
def test_each_bulk_action_goes_through_and_reports_what_it_cannot_do(
    as_analyst, analyst, make, action
):
    state, fields, after = _setups(make, analyst)[action]
    cases = [make.case(state, by=analyst) for _ in range(2)]
    closed = make.case("closed", by=analyst)
    ids = [cases[0].id, closed.id, 999_999, cases[1].id]
    response = bulk_act(as_analyst, action, {"case_ids": ids, **fields})
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [(r["id"], r["ok"]) for r in results] == [
        (cases[0].id, True),
        (closed.id, False),
        (999_999, False),
        (cases[1].id, True),
    ]
    for result in (results[0], results[3]):
        assert result["case"]["status"] == after
        assert result["case"]["events"][-1]["action"] == bulk.workflow_action(action)
        assert result["case"]["events"][-1]["actor"]["id"] == analyst.id
    # Each refusal is what the single-case action answers for that case.
    assert (
        results[1]["error"]
        == single(as_analyst, closed.id, bulk.workflow_action(action), fields).json
    )
    assert results[1]["error"]["error"] == "invalid_transition"
    assert results[2]["error"] == {"error": "not_found", "message": "no case with id 999999"}
    entries = db.session.scalars(
        select(AuditEntry.target_id).where(
            AuditEntry.action == "case.action",
            AuditEntry.created_at == context.now(),
        )
    ).all()
    assert sorted(entries) == sorted([str(cases[0].id), str(cases[1].id)])


def test_a_mix_answers_each_case_as_the_single_case_action_would(as_analyst, analyst, make):
    mine = make.case("triage", by=analyst)
    theirs = make.case("triage")
    moved = make.case("triage", by=analyst)
    assessed = make.case("action_required", by=analyst)
    gone = make.case("new")
    gone_id = gone.id
    db.session.execute(text("DELETE FROM cases WHERE id = :id"), {"id": gone_id})
    db.session.commit()
    ids = [mine.id, theirs.id, moved.id, assessed.id, gone_id]
    versions = {str(mine.id): mine.version, str(moved.id): moved.version - 1}
    body = {"case_ids": ids, **make.ILLEGAL, "versions": versions}
    results = bulk_act(as_analyst, "assess", body).json["results"]
    assert [r["ok"] for r in results] == [True, False, False, False, False]
    errors = [r["error"] for r in results[1:]]
    assert [e["error"] for e in errors] == [
        "forbidden",
        "stale_version",
        "invalid_transition",
        "not_found",
    ]
    assert errors[1]["version"] == moved.version
    expected = [
        single(as_analyst, theirs.id, "assess", make.ILLEGAL).json,
        single(as_analyst, moved.id, "assess", {**make.ILLEGAL, "version": moved.version - 1}).json,
        single(as_analyst, assessed.id, "assess", make.ILLEGAL).json,
        single(as_analyst, gone_id, "assess", make.ILLEGAL).json,
    ]
    assert errors == expected
    db.session.expire_all()
    assert [db.session.get(Case, c.id).status for c in (theirs, moved, assessed)] == [
        "triage",
        "triage",
        "action_required",
    ]


def test_an_analyst_is_refused_per_case_where_a_supervisor_is_not(as_analyst, as_supervisor, make):
    colleague = make.user("analyst")
    cases = [make.case("triage", by=colleague), make.case("new")]
    ids = [case.id for case in cases]
    results = bulk_act(as_analyst, "take", {"case_ids": ids}).json["results"]
    assert [r["ok"] for r in results] == [False, True]
    assert results[0]["error"]["error"] == "forbidden"
    given = bulk_act(as_analyst, "assign", {"case_ids": ids, "assignee_id": colleague.id})
    refused = [r["error"] for r in given.json["results"]]
    assert refused[0]["error"] == "forbidden"
    assert refused[1]["fields"] == {
        "assignee_id": ["only a supervisor can give a case to someone else"]
    }
    results = bulk_act(as_supervisor, "take", {"case_ids": ids}).json["results"]
    assert all(r["ok"] for r in results)


@pytest.mark.parametrize("action", ["close_unavailable", "mark_duplicate"])
def test_a_bulk_close_refuses_a_colleagues_case(as_analyst, analyst, make, action):
    original = make.case("triage", by=analyst)
    fields = {"duplicate_of": original.reference} if action == "mark_duplicate" else {}
    theirs, mine = make.case("triage"), make.case("triage", by=analyst)
    body = {"case_ids": [theirs.id, mine.id], **fields}
    results = bulk_act(as_analyst, action, body).json["results"]
    assert [(r["id"], r["ok"]) for r in results] == [(theirs.id, False), (mine.id, True)]
    assert results[0]["error"]["error"] == "forbidden"
    assert "only the assignee or a supervisor can close it" in results[0]["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Case, theirs.id).status == "triage"


def test_a_token_is_needed(anonymous, analyst, token_for, make):
    case = make.case("new")
    token = token_for(analyst)
    assert bulk_act(anonymous, "take", {"case_ids": [case.id]}).status_code == 401
    analyst.active = False
    db.session.commit()
    response = bulk_act(anonymous.as_token(token), "take", {"case_ids": [case.id]})
    assert response.status_code == 401
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "new"


# --- the request as a whole: 422 or 404, and nothing changes


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "case_ids", "must be a list of case ids"),
        ({"case_ids": None}, "case_ids", "must be a list of case ids"),
        ({"case_ids": []}, "case_ids", "must list at least one case"),
        ({"case_ids": "1,2"}, "case_ids", "must be a list of case ids"),
        ({"case_ids": {"1": 1}}, "case_ids", "must be a list of case ids"),
        ({"case_ids": list(range(1, 502))}, "case_ids", "must list at most 500 cases"),
        ({"case_ids": ["12"]}, "case_ids", "case_ids[0]: must be a case id"),
        ({"case_ids": ["CASE", "1"]}, "case_ids", "case_ids[1]: must be a case id"),
        ({"case_ids": ["CASE", 1.5]}, "case_ids", "case_ids[1]: must be a case id"),
        ({"case_ids": ["CASE", True]}, "case_ids", "case_ids[1]: must be a case id"),
        ({"case_ids": ["CASE", -1]}, "case_ids", "case_ids[1]: must be a case id"),
        ({"case_ids": ["CASE", 2**63]}, "case_ids", "case_ids[1]: must be a case id"),
        ({"case_ids": ["CASE", 10**400]}, "case_ids", "case_ids[1]: must be a case id"),
        ({"case_ids": ["CASE", [1]]}, "case_ids", "case_ids[1]: must be a case id"),
        ({"case_ids": ["CASE", "CASE"]}, "case_ids", "is listed more than once"),
        ({"case_ids": ["CASE"], "versions": [1]}, "versions", "must map case ids"),
        ({"case_ids": ["CASE"], "versions": {"x": 1}}, "versions", "'x' is not a case id"),
        ({"case_ids": ["CASE"], "versions": {"7777": 1}}, "versions", "case 7777 is not in"),
        ({"case_ids": ["CASE"], "versions": {"CASE": "1"}}, "versions", "must be the case's"),
        ({"case_ids": ["CASE"], "version": 1}, "version", "is not a field of this request"),
        ({"case_ids": ["CASE"], "assignee_id": 1}, "assignee_id", "is not a field"),
    ],
)
def test_a_bad_request_is_422_naming_the_field(as_analyst, make, body, field, message):
    case = make.case("new")

    def fill(value):
        if value == "CASE":
            return case.id
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, dict):
            return {str(case.id) if k == "CASE" else k: fill(v) for k, v in value.items()}
        return value

    before = counts()
    response = bulk_act(as_analyst, "take", fill(body))
    assert response.status_code == 422, response.json
    assert response.json["error"] == "validation"
    assert any(message in text for text in response.json["fields"][field]), response.json
    assert counts() == before


@pytest.mark.parametrize(
    ("action", "body", "fields"),
    [
        ("assess", {"classification": "illegal"}, {"classification"}),
        (
            "assess",
            {"classification": "illegal_baseline"},
            {"media_type", "site_type", "hosting_country"},
        ),
        ("request_notice", {}, {"provider_id"}),
        ("request_notice", {"provider_id": "seven"}, {"provider_id"}),
        ("confirm_takedown", {"removed_at": "yesterday"}, {"removed_at"}),
        ("refer_to_police", {"police_id": 1, "hold": "maybe"}, {"hold"}),
        ("mark_duplicate", {"duplicate_of": "x" * 65}, {"duplicate_of"}),
    ],
)
def test_the_actions_fields_are_checked_before_any_case(as_analyst, make, action, body, fields):
    case = make.case("triage")
    before = counts()
    response = bulk_act(as_analyst, action, {"case_ids": [case.id], **body})
    assert response.status_code == 422
    assert set(response.json["fields"]) == fields
    assert counts() == before


@pytest.mark.parametrize("action", ["reopen", "release_hold", "send_notice", "nope", "x" * 300])
def test_an_unknown_bulk_action_is_404(as_supervisor, make, action):
    case = make.case("closed")
    response = bulk_act(as_supervisor, action, {"case_ids": [case.id]})
    assert response.status_code == 404
    assert response.json["error"] == "unknown_action"
    assert response.json["allowed_actions"] == list(bulk.BULK_ACTIONS)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "closed"


def test_up_to_the_limit_is_answered_case_by_case(as_analyst, make):
    case = make.case("new")
    ids = [case.id, *range(10**6, 10**6 + bulk.MAX_BULK_CASES - 1)]
    response = bulk_act(as_analyst, "take", {"case_ids": ids})
    assert response.status_code == 200
    results = response.json["results"]
    assert len(results) == bulk.MAX_BULK_CASES
    assert results[0]["ok"] and not any(r["ok"] for r in results[1:])


def test_the_document_describes_every_bulk_action(document):
    for action in bulk.BULK_ACTIONS:
        operation = document["paths"][f"/api/v1/cases/actions/{action}"]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        fields = bulk.field_names(action)
        assert set(schema["properties"]) == {"case_ids", "versions"} | fields
        assert schema["properties"]["case_ids"]["maxItems"] == bulk.MAX_BULK_CASES
        assert "case_ids" in schema["required"]


def test_each_case_is_answered_as_get_case_shows_it(as_analyst, analyst, make, app):
    police = make.organisation("police")
    cases = [make.case("notice_pending", by=analyst) for _ in range(2)]
    run_notices(app, context.now())  # each case gets its letter
    body = {"case_ids": [case.id for case in cases], "police_id": police.id}
    results = bulk_act(as_analyst, "refer_to_police", body).json["results"]
    for case, result in zip(cases, results, strict=True):
        shown = as_analyst.get(f"/api/v1/cases/{case.id}").json
        assert result["case"] == shown
        assert len(shown["notices"]) == 1 and shown["status"] == "with_police"


def test_a_note_is_added_to_each_case_whatever_its_state(as_analyst, analyst, make):
    cases = [make.case("new"), make.case("closed"), make.case("notice_sent")]
    versions = [case.version for case in cases]
    ids = [cases[0].id, 999_999, cases[1].id, cases[2].id]
    body = {"case_ids": ids, "body": "  Called the provider: removal promised today.\r\n"}
    results = bulk_act(as_analyst, "add_note", body).json["results"]
    assert [r["ok"] for r in results] == [True, False, True, True]
    assert results[1]["error"] == {"error": "not_found", "message": "no case with id 999999"}
    for case, result, version in zip(cases, [results[0], *results[2:]], versions, strict=True):
        shown = result["case"]
        assert shown == as_analyst.get(f"/api/v1/cases/{case.id}").json
        assert [n["body"] for n in shown["notes"]] == [
            "Called the provider: removal promised today."
        ]
        assert shown["notes"][0]["author"]["id"] == analyst.id
        assert shown["version"] == version  # a note changes no version
    entries = db.session.scalars(
        select(AuditEntry.target_id).where(AuditEntry.action == "case.note")
    ).all()
    assert sorted(entries) == sorted(str(case.id) for case in cases)


def test_a_note_with_a_stale_version_is_refused_for_that_case(as_analyst, make):
    fresh, moved = make.case("new"), make.case("triage")
    versions = {str(fresh.id): fresh.version, str(moved.id): moved.version - 1}
    body = {"case_ids": [fresh.id, moved.id], "body": "Police ref. 2026/114", "versions": versions}
    results = bulk_act(as_analyst, "add_note", body).json["results"]
    assert results[0]["ok"]
    assert results[1]["error"]["error"] == "stale_version"
    assert results[1]["error"]["version"] == moved.version


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "is required"),
        ({"body": None}, "is required"),
        ({"body": "   "}, "empty"),
        ({"body": 12}, "must be text"),
        ({"body": "a\x07b"}, "control characters"),
        ({"body": "x" * 4001}, "at most 4,000 characters"),
        ({"body": "ok", "reason": "x"}, None),
    ],
)
def test_a_bad_note_is_422_before_any_case(as_analyst, make, body, message):
    case = make.case("new")
    before = counts()
    response = bulk_act(as_analyst, "add_note", {"case_ids": [case.id], **body})
    assert response.status_code == 422
    field = "body" if message else "reason"
    assert any((message or "is not a field") in m for m in response.json["fields"][field])
    assert counts() == before

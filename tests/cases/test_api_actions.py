"""POST /api/v1/cases/<id>/actions/<action>: the workflow through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from casemgr import context
from casemgr.cases import services as cases
from casemgr.cases import workflow
from casemgr.cases.models import Case
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db


def act(client, case, action, body=None, **kwargs):
    return client.post(f"/api/v1/cases/{case.id}/actions/{action}", json=body, **kwargs)


def reloaded(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def test_assign_without_assignee_takes_the_case(as_analyst, analyst, make):
    case = make.case("new")
    version = case.version
    response = act(as_analyst, case, "assign")
    assert response.status_code == 200
    assert response.json["status"] == "triage"
    assert response.json["assignee"] == {"id": analyst.id, "name": analyst.name}
    assert response.json["version"] == version + 1
    assert response.json["events"][-1]["action"] == "assign"
    assert response.json["events"][-1]["actor"]["id"] == analyst.id


def test_a_whole_number_with_a_fraction_is_that_integer(as_analyst, analyst, make):
    # JSON Schema counts 7.0 as an integer; so does the API (docs/api.md, What changed).
    case = make.case("new")
    body = f'{{"assignee_id": {analyst.id}.0, "version": {case.version}.0}}'
    response = as_analyst.post(
        f"/api/v1/cases/{case.id}/actions/assign", data=body, content_type="application/json"
    )
    assert response.status_code == 200, response.json
    assert response.json["assignee"]["id"] == analyst.id
    assert act(as_analyst, make.case("new"), "assign", {"assignee_id": 1.5}).status_code == 422


def test_an_empty_body_without_content_type_is_no_fields(as_analyst, make):
    case = make.case("new")
    response = as_analyst.post(f"/api/v1/cases/{case.id}/actions/assign")
    assert response.status_code == 200


def test_a_supervisor_gives_the_case_to_a_colleague(as_supervisor, analyst, make):
    case = make.case("new")
    response = act(as_supervisor, case, "assign", {"assignee_id": analyst.id})
    assert response.json["assignee"]["id"] == analyst.id


def test_an_analyst_cannot_give_a_case_away(as_analyst, make):
    colleague = make.user("analyst")
    case = make.case("new")
    response = act(as_analyst, case, "assign", {"assignee_id": colleague.id})
    assert response.status_code == 422
    assert "assignee_id" in response.json["fields"]
    assert reloaded(case).status == "new"


def test_an_analyst_cannot_take_a_colleagues_case(as_analyst, make):
    case = make.case("triage")
    response = act(as_analyst, case, "assign")
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_a_case_through_its_whole_life(as_analyst, as_supervisor, make, clock):
    provider = make.organisation("hosting_provider")
    police = make.organisation("police")
    case = make.case("new", at=context.now() - timedelta(days=2))
    steps = [
        (as_analyst, "assign", {}, "triage"),
        (as_analyst, "assess", dict(make.ILLEGAL, age_group="pubescent"), "action_required"),
        (as_analyst, "refer_to_police", {"police_id": police.id, "hold": True}, "with_police"),
        (as_supervisor, "release_hold", {"reason": "investigation done"}, "with_police"),
        (as_analyst, "request_notice", {"provider_id": provider.id}, "notice_pending"),
    ]
    for client, action, body, status in steps:
        response = act(client, case, action, body)
        assert response.status_code == 200, (action, response.json)
        assert response.json["status"] == status
    body = response.json
    assert body["provider"]["id"] == provider.id and body["police"]["kind"] == "police"
    assert body["age_group"] == "pubescent"
    assert body["police_hold"] is False

    cases.apply_action(
        db.session,
        reloaded(case),
        "send_notice",
        {},
        actor=SYSTEM_ACTOR,
        now=context.now(),
        timings=context.timings(),
    )
    db.session.commit()
    removed = (context.now() - timedelta(minutes=5)).isoformat()
    response = act(as_analyst, case, "confirm_takedown", {"removed_at": removed})
    assert response.json["status"] == "closed"
    assert response.json["resolution"] == "takedown_confirmed"
    response = act(as_supervisor, case, "reopen", {"reason": "the material came back"})
    assert response.json["status"] == "triage"
    assert [event["action"] for event in response.json["events"]][-2:] == [
        "confirm_takedown",
        "reopen",
    ]
    assert response.json["events"][-3]["actor"] is None  # send_notice: the system


def test_assess_as_legal_closes_the_case(as_analyst, analyst, make):
    case = make.case("triage", by=analyst)
    response = act(as_analyst, case, "assess", {"classification": "not_illegal"})
    assert response.json["status"] == "closed"
    assert response.json["resolution"] == "not_illegal"


def test_missing_and_bad_fields_are_named(as_analyst, analyst, make):
    case = make.case("triage", by=analyst)
    response = act(
        as_analyst, case, "assess", {"classification": "illegal_baseline", "media_type": "sound"}
    )
    assert response.status_code == 422
    assert response.json["error"] == "validation"
    assert set(response.json["fields"]) == {"media_type", "site_type", "hosting_country"}
    assert reloaded(case).status == "triage"


def test_a_partner_abroad_needs_a_reason(as_analyst, analyst, make):
    case = make.case("action_required", by=analyst)
    partner = make.organisation("hotline", country="DE")
    response = act(as_analyst, case, "forward_to_partner", {"partner_id": partner.id})
    assert response.status_code == 422
    assert list(response.json["fields"]) == ["reason"]
    response = act(
        as_analyst, case, "forward_to_partner", {"partner_id": partner.id, "reason": "hosted in DE"}
    )
    assert response.json["status"] == "forwarded"


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("assign", {"assignee_id": 2**31}, "assignee_id"),
        ("assign", {"assignee_id": 10**30}, "assignee_id"),
        ("assign", {"assignee_id": "abc"}, "assignee_id"),
        ("assign", {"assignee_id": [1]}, "assignee_id"),
        ("assign", {"assignee_id": True}, "assignee_id"),
        ("mark_duplicate", {"duplicate_of": 2**40}, "duplicate_of"),
        ("mark_duplicate", {"duplicate_of": {"id": 1}}, "duplicate_of"),
        ("assess", {"classification": ["illegal_baseline"]}, "classification"),
        ("assess", {"classification": {"x": 1}}, "classification"),
        ("assess", {"classification": "x" * 100_000}, "classification"),
        ("assign", {"assignee": 1}, "assignee"),
        ("assign", {"version": "1"}, "version"),
        ("assign", {"version": True}, "version"),
        ("assign", {"version": -1}, "version"),
        ("assign", {"version": 1.5}, "version"),
    ],
)
def test_bad_values_are_422_and_the_case_is_unchanged(as_supervisor, make, action, body, field):
    case = make.case("new")
    version = case.version
    if action == "assess":
        act(as_supervisor, case, "assign")
        version += 1
    response = act(as_supervisor, case, action, body)
    assert response.status_code == 422, response.json
    assert field in response.json["fields"]
    assert reloaded(case).version == version


@pytest.mark.parametrize("named", ["reference", "lower-case reference", "id as text"])
def test_a_duplicate_is_named_by_its_reference_or_its_id(as_analyst, make, named):
    original, copy = make.case("new"), make.case("new")
    duplicate_of = {
        "reference": original.reference,
        "lower-case reference": f" {original.reference.lower()} ",
        "id as text": str(original.id),
    }[named]
    response = act(as_analyst, copy, "mark_duplicate", {"duplicate_of": duplicate_of})
    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["resolution"]) == ("closed", "duplicate")
    assert response.json["duplicate_of"] == {"id": original.id, "reference": original.reference}
    assert response.json["events"][-1]["fields"] == {"duplicate_of": original.id}
    assert reloaded(copy).duplicate_of_id == original.id


def test_the_document_says_a_duplicate_may_be_named_by_its_reference(as_analyst, make):
    original, copy = make.case("new"), make.case("new")
    response = act(as_analyst, copy, "mark_duplicate", {"duplicate_of": original.reference})
    assert response.status_code == 200


@pytest.mark.parametrize("named", ["CM-2026-999999", "its own"])
def test_a_reference_that_names_no_other_case_is_422(as_analyst, make, named):
    case = make.case("new")
    duplicate_of = case.reference if named == "its own" else named
    response = act(as_analyst, case, "mark_duplicate", {"duplicate_of": duplicate_of})
    assert response.status_code == 422
    assert "duplicate_of" in response.json["fields"]
    assert reloaded(case).status == "new"


@pytest.mark.parametrize(
    "removed_at", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "yesterday", 12]
)
def test_removal_times_that_are_no_times_are_422(as_analyst, analyst, make, removed_at):
    case = make.case("notice_sent", by=analyst)
    response = act(as_analyst, case, "confirm_takedown", {"removed_at": removed_at})
    assert response.status_code == 422
    assert "removed_at" in response.json["fields"]


def test_a_reason_over_the_limit_is_422(as_supervisor, make):
    case = make.case("closed")
    response = act(as_supervisor, case, "reopen", {"reason": "x" * 2001})
    assert response.status_code == 422
    assert "reason" in response.json["fields"]


def test_an_action_not_possible_now_is_409_with_the_allowed_ones(as_analyst, make):
    case = make.case("new")
    response = act(as_analyst, case, "confirm_takedown", {"removed_at": "2026-11-27T10:00:00Z"})
    assert response.status_code == 409
    assert response.json["error"] == "invalid_transition"
    assert response.json["allowed_actions"] == ["assign", "mark_duplicate"]
    assert reloaded(case).status == "new"


def test_an_unknown_action_is_404_with_the_allowed_ones(as_analyst, make):
    case = make.case("new")
    response = act(as_analyst, case, "frobnicate", {})
    assert response.status_code == 404
    assert response.json["error"] == "unknown_action"
    assert response.json["allowed_actions"] == ["assign", "mark_duplicate"]


def test_an_unknown_case_is_404_before_the_action_is_looked_at(as_analyst):
    for path in ("/api/v1/cases/999/actions/assign", "/api/v1/cases/999/actions/frobnicate"):
        response = as_analyst.post(path, json={})
        assert response.status_code == 404
        assert response.json["error"] == "not_found"
    response = as_analyst.post("/api/v1/cases/99999999999999999999/actions/assign", json={})
    assert response.status_code == 404


def test_send_notice_is_refused_to_people(as_admin, make):
    case = make.case("notice_pending")
    response = act(as_admin, case, "send_notice", {})
    assert response.status_code == 403
    assert reloaded(case).status == "notice_pending"


@pytest.mark.parametrize(
    ("state", "action", "body"),
    [
        ("with_police_hold", "release_hold", {"reason": "done"}),
        ("closed", "reopen", {"reason": "came back"}),
    ],
)
def test_supervisor_actions_are_refused_to_analysts(as_analyst, make, state, action, body):
    case = make.case(state)
    response = act(as_analyst, case, action, body)
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_an_unassigned_analyst_cannot_assess(as_analyst, make):
    case = make.case("triage")
    response = act(as_analyst, case, "assess", {"classification": "not_illegal"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("action", "body"),
    [("close_unavailable", {}), ("mark_duplicate", {"duplicate_of": "ORIGINAL"})],
)
def test_a_colleagues_case_cannot_be_closed(as_analyst, as_supervisor, make, action, body):
    """Closing follows assessing: the assignee or a supervisor (403 to anyone else)."""
    case = make.case("triage")  # taken by an analyst who is not the caller
    if body:
        body = {"duplicate_of": make.case("triage").reference}
    response = act(as_analyst, case, action, body)
    assert response.status_code == 403
    assert response.json == {
        "error": "forbidden",
        "message": "the case is assigned to a colleague; only the assignee or a supervisor "
        "can close it",
    }
    assert reloaded(case).status == "triage"
    assert action not in as_analyst.get(f"/api/v1/cases/{case.id}").json["allowed_actions"]
    assert act(as_supervisor, case, action, body).status_code == 200


@pytest.mark.parametrize(
    ("action", "who"),
    [
        ("assess", "Only the case's assignee or a supervisor (403"),
        ("mark_duplicate", "a case nobody holds yet, any analyst"),
        ("close_unavailable", "a case nobody holds yet, any analyst"),
        ("assign", "only a supervisor reassigns a colleague's"),
    ],
)
def test_the_document_says_who_may_take_an_action(document, action, who):
    for path in (f"/api/v1/cases/{{case_id}}/actions/{action}", f"/api/v1/cases/actions/{action}"):
        assert who in document["paths"][path]["post"]["description"], path


# --- optimistic locking


@pytest.mark.parametrize(
    "headers_or_body",
    [{"headers": {"If-Match": "{v}"}}, {"headers": {"If-Match": '"{v}"'}}, {"body": "{v}"}],
)
def test_the_current_version_lets_the_action_through(as_analyst, make, headers_or_body):
    case = make.case("new")
    version = str(case.version)
    headers = {k: v.format(v=version) for k, v in headers_or_body.get("headers", {}).items()}
    body = {"version": int(version)} if "body" in headers_or_body else {}
    response = act(as_analyst, case, "assign", body, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize("where", ["header", "body"])
def test_a_stale_version_is_409_and_nothing_changes(as_analyst, as_supervisor, make, where):
    case = make.case("new")
    seen = case.version
    act(as_supervisor, case, "assign")  # someone else acts first
    if where == "header":
        response = act(
            as_analyst,
            case,
            "mark_duplicate",
            {"duplicate_of": 999},
            headers={"If-Match": str(seen)},
        )
    else:
        response = act(as_analyst, case, "mark_duplicate", {"duplicate_of": 999, "version": seen})
    assert response.status_code == 409
    assert response.json["error"] == "stale_version"
    assert response.json["version"] == seen + 1
    assert reloaded(case).status == "triage"


def test_without_a_version_there_is_no_check(as_analyst, make):
    case = make.case("new")
    response = act(as_analyst, case, "assign", {}, headers={"If-Match": "*"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["abc", 'W/"1"', "1.0", "", "9" * 30, "1, 2"])
def test_an_if_match_that_is_not_a_version_is_422(as_analyst, make, value):
    case = make.case("new")
    response = act(as_analyst, case, "assign", {}, headers={"If-Match": value})
    assert response.status_code == 422
    assert list(response.json["fields"]) == ["If-Match"]
    assert reloaded(case).status == "new"


def test_if_match_and_a_different_body_version_are_422(as_analyst, make):
    case = make.case("new")
    response = act(
        as_analyst, case, "assign", {"version": case.version}, headers={"If-Match": "99"}
    )
    assert response.status_code == 422
    assert "If-Match" in response.json["fields"]


def test_two_updates_at_the_same_moment_let_one_through(as_analyst, make, monkeypatch):
    """The version check in the UPDATE refuses the second of two racing requests."""
    case = make.case("new")
    real_plan = workflow.plan

    def plan_while_someone_else_acts(*args, **kwargs):
        with db.engine.begin() as connection:
            connection.execute(
                update(Case).where(Case.id == case.id).values(version=Case.version + 1)
            )
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(cases.workflow, "plan", plan_while_someone_else_acts)
    response = act(as_analyst, case, "assign")
    assert response.status_code == 409
    assert response.json["error"] == "stale_version"
    assert reloaded(case).status == "new"

"""Whatever a client sends, the answer is a 4xx in the JSON envelope, never a 500,
and nothing changes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from casemgr.cases.models import Case, CaseNote, Submission
from casemgr.directory.models import Organisation
from casemgr.extensions import db

# (path builder, a valid body) for each operation that takes a body.
BODIES = {
    "reports": lambda case: ("/api/v1/reports", {"urls": ["http://example.com/x"]}),
    "action": lambda case: (f"/api/v1/cases/{case.id}/actions/assign", {}),
    "note": lambda case: (f"/api/v1/cases/{case.id}/notes", {"body": "Called the provider."}),
    "bulk": lambda case: ("/api/v1/cases/actions/take", {"case_ids": [case.id]}),
    "organizations": lambda case: ("/api/v1/organizations", {"kind": "police", "name": "Unit"}),
}


@pytest.fixture
def state(make):
    """A case, and a way to tell that nothing changed."""
    case = make.case("new")

    def snapshot():
        db.session.expire_all()
        return (
            db.session.scalar(select(func.count()).select_from(Submission)),
            db.session.scalar(select(func.count()).select_from(Organisation)),
            db.session.get(Case, case.id).version,
            db.session.scalar(select(func.count()).select_from(CaseNote)),
        )

    return case, snapshot


@pytest.mark.parametrize("operation", BODIES)
@pytest.mark.parametrize(
    ("data", "content_type", "status", "error"),
    [
        (b'{"urls": [', "application/json", 400, "invalid_json"),
        (b"{'urls': []}", "application/json", 400, "invalid_json"),
        (b"\xff\xfe\x00garbage", "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "invalid_json"),
        (b'"text"', "application/json", 400, "invalid_json"),
        (b"null", "application/json", 400, "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "invalid_json"),
        (b"1" * 5000, "application/json", 400, "invalid_json"),
        (b"urls=http://example.com/x", "application/x-www-form-urlencoded", 415, None),
        (b'{"urls": ["http://example.com/x"]}', "text/plain", 415, None),
        (b'{"urls": ["http://example.com/x"]}', None, 415, None),
    ],
)
def test_bodies_that_are_not_json_objects(
    as_supervisor, state, operation, data, content_type, status, error
):
    case, snapshot = state
    before = snapshot()
    path, _ = BODIES[operation](case)
    headers = {"Content-Type": content_type} if content_type else {}
    response = as_supervisor.post(path, data=data, headers=headers)
    assert response.status_code == status, response.json
    if error:
        assert response.json["error"] == error
    else:
        assert "application/json" in response.json["message"]
    assert snapshot() == before


@pytest.mark.parametrize("operation", BODIES)
@pytest.mark.parametrize(
    "text",
    ["nul \x00 inside", "lone \ud800 surrogate"],
)
def test_text_no_database_can_store_is_422(as_supervisor, state, operation, text):
    case, snapshot = state
    before = snapshot()
    path, body = BODIES[operation](case)
    data = json.dumps({**body, "extra": {"deep": [text]}}).encode()
    response = as_supervisor.post(path, data=data, content_type="application/json")
    assert response.status_code == 422
    assert "extra" in response.json["fields"]
    assert snapshot() == before


@pytest.mark.parametrize("operation", BODIES)
def test_unknown_fields_are_422_naming_them(as_supervisor, state, operation):
    case, snapshot = state
    before = snapshot()
    path, body = BODIES[operation](case)
    response = as_supervisor.post(path, json={**body, "colour": "blue"})
    assert response.status_code == 422
    assert list(response.json["fields"]) == ["colour"]
    assert snapshot() == before


@pytest.mark.parametrize("operation", BODIES)
def test_unknown_query_parameters_are_422(as_supervisor, state, operation):
    case, snapshot = state
    path, body = BODIES[operation](case)
    response = as_supervisor.post(path, json=body, query_string={"dry_run": "1"})
    assert response.status_code == 422
    assert list(response.json["fields"]) == ["dry_run"]


@pytest.mark.parametrize("operation", BODIES)
def test_a_body_over_the_limit_is_413_json(as_supervisor, state, operation):
    case, snapshot = state
    before = snapshot()
    path, _ = BODIES[operation](case)
    padding = "x" * (1024 * 1024)
    response = as_supervisor.post(path, json={"description": padding})
    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"
    assert snapshot() == before


def test_the_charset_parameter_is_accepted(as_supervisor):
    response = as_supervisor.post(
        "/api/v1/organizations",
        data=json.dumps({"kind": "police", "name": "Unité"}).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201
    assert response.json["name"] == "Unité"


def test_the_document_refuses_unknown_parameters_too(anonymous):
    response = anonymous.get("/api/v1/openapi.json", query_string={"format": "yaml"})
    assert response.status_code == 422

"""GET and POST /api/v1/organizations."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casemgr.audit.models import AuditEntry
from casemgr.directory.models import Organisation
from casemgr.extensions import db


def test_any_staff_lists_active_organisations_by_name(as_analyst, make):
    make.organisation("police", name="Zeta police")
    make.organisation("hotline", name="Alpha hotline", country="DE")
    retired = make.organisation("hosting_provider", name="Gone hosting")
    retired.active = False
    db.session.commit()
    response = as_analyst.get("/api/v1/organizations")
    assert response.status_code == 200
    assert [item["name"] for item in response.json["items"]] == ["Alpha hotline", "Zeta police"]
    assert response.json["items"][0]["country"] == "DE"
    assert response.json["items"][0]["created_at"].endswith("+00:00")


def test_the_list_filters_by_kind(as_analyst, make):
    make.organisation("police")
    hotline = make.organisation("hotline")
    response = as_analyst.get("/api/v1/organizations", query_string={"kind": "hotline"})
    assert [item["id"] for item in response.json["items"]] == [hotline.id]


@pytest.mark.parametrize("query", [{"kind": "bank"}, {"country": "KH"}, {"kind": ["a", "b"]}])
def test_bad_list_parameters_are_422(as_analyst, query):
    response = as_analyst.get("/api/v1/organizations", query_string=query)
    assert response.status_code == 422
    assert set(response.json["fields"]) == set(query)


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_add_organisations(anonymous, make, token_for, role):
    response = anonymous.as_token(token_for(make.user(role))).post(
        "/api/v1/organizations",
        json={
            "kind": "hosting_provider",
            "name": "  Example Hosting  ",
            "country": "kh",
            "email": "abuse@hosting.example.com",
            "language": "km",
            "address": "1 Street",
        },
    )
    assert response.status_code == 201
    body = response.json
    assert body["name"] == "Example Hosting" and body["country"] == "KH"
    assert body["language"] == "km" and body["kind"] == "hosting_provider"
    organisation = db.session.get(Organisation, body["id"])
    assert organisation.email == "abuse@hosting.example.com"
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.create"))
    assert audit.target_id == str(organisation.id)


def test_only_kind_and_name_are_needed(as_supervisor):
    response = as_supervisor.post("/api/v1/organizations", json={"kind": "police", "name": "Unit"})
    assert response.status_code == 201
    assert response.json["language"] == "en" and response.json["country"] is None


def test_analysts_cannot_add_organisations(as_analyst):
    response = as_analyst.post("/api/v1/organizations", json={"kind": "police", "name": "Unit"})
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"kind", "name"}),
        ({"kind": "bank", "name": "x"}, {"kind"}),
        ({"kind": ["police"], "name": "x"}, {"kind"}),
        ({"kind": "police", "name": ""}, {"name"}),
        ({"kind": "police", "name": "x" * 201}, {"name"}),
        ({"kind": "police", "name": 5}, {"name"}),
        ({"kind": "police", "name": "x", "country": "XX"}, {"country"}),
        ({"kind": "police", "name": "x", "country": ["KH"]}, {"country"}),
        ({"kind": "police", "name": "x", "email": "not an address"}, {"email"}),
        ({"kind": "police", "name": "x", "language": "xx"}, {"language"}),
        ({"kind": "police", "name": "x", "language": {"en": 1}}, {"language"}),
        ({"kind": "police", "name": "x", "address": "y" * 1001}, {"address"}),
        ({"kind": "police", "name": "x", "notes": "extra"}, {"notes"}),
        ({"kind": "police", "name": "x\x00y"}, {"name"}),
    ],
)
def test_bad_organisations_are_422_naming_the_fields(as_supervisor, body, fields):
    response = as_supervisor.post("/api/v1/organizations", json=body)
    assert response.status_code == 422, response.json
    assert set(response.json["fields"]) == fields
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0

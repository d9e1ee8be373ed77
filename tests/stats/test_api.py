"""GET /api/v1/stats and its OpenAPI fragment: for supervisors' and admins'
tokens, as the statistics pages are for them."""

from __future__ import annotations

import re

import pytest

from casemgr import context
from casemgr.auth import tokens
from casemgr.extensions import db
from casemgr.stats.figures import compute_figures
from casemgr.stats.figures_json import figures_as_dict
from casemgr.stats.openapi import FIGURES_SCHEMA, OPENAPI_PATHS
from casemgr.stats.selection import Period
from tests.conftest import NOW

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "null": type(None),
    "boolean": bool,
}


def check(value, schema: dict, path: str = "$") -> None:
    """The JSON Schema keywords the fragment uses; raises AssertionError with the path."""
    types_ = schema.get("type")
    if types_ is not None:
        names = types_ if isinstance(types_, list) else [types_]
        ok = any(
            isinstance(value, _TYPES[n]) and not (n in ("integer", "number") and value is True)
            for n in names
        )
        assert ok, f"{path}: {value!r} is not {names}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        assert value >= schema.get("minimum", value), f"{path}: below minimum"
        assert value <= schema.get("maximum", value), f"{path}: above maximum"
    if isinstance(value, str) and "pattern" in schema:
        assert re.search(schema["pattern"], value), f"{path}: {value!r} !~ {schema['pattern']}"
    if isinstance(value, dict):
        for name in schema.get("required", []):
            assert name in value, f"{path}: {name} is missing"
        for name, inner in value.items():
            sub = schema.get("properties", {}).get(name, schema.get("additionalProperties"))
            assert sub is not None, f"{path}: {name} is not described"
            check(inner, sub, f"{path}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            check(item, schema["items"], f"{path}[{index}]")


@pytest.mark.parametrize("month", [(2026, 10), (2026, 11), (2025, 1)])
def test_answers_match_the_openapi_schema(data, month):
    figures = compute_figures(db.session, Period.month(*month), now=NOW)
    check(figures_as_dict(figures), FIGURES_SCHEMA)


def test_the_fragment_describes_the_route():
    operation = OPENAPI_PATHS["/stats"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "country", "provider"}
    assert set(operation["responses"]) == {"200", "401", "403", "422"}
    assert "supervisors" in operation["description"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema is FIGURES_SCHEMA
    assert "per_analyst" not in schema["properties"]  # never served by the API


def bearer(user) -> dict[str, str]:
    token = tokens.issue_token(db.session, user, now=context.now())
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


OCTOBER = "/api/v1/stats?from=2026-10-01&to=2026-10-31"


def test_route_serves_the_figures(client, data):
    response = client.get(OCTOBER, headers=bearer(data.sam))
    assert response.status_code == 200
    body = response.get_json()
    assert body["urls_reported"] == 10
    assert body["notices"]["removed_within"][1]["share"] == 0.6
    assert "per_analyst" not in body
    check(body, FIGURES_SCHEMA)


def test_route_filters(client, data):
    response = client.get(f"{OCTOBER}&provider={data.alpha.id}", headers=bearer(data.sam))
    assert response.get_json()["urls_reported"] == 3


def test_route_needs_the_token(client, data):
    response = client.get(OCTOBER)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_an_analysts_token_is_refused_as_the_statistics_pages_refuse_analysts(client, data, make):
    response = client.get(OCTOBER, headers=bearer(data.ana))
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "forbidden",
        "message": "this needs the supervisor role",
    }
    assert client.get(OCTOBER, headers=bearer(make.user("admin"))).status_code == 200


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("", {"from", "to"}),
        ("from=2026-10-01", {"to"}),
        ("from=2026-10-31&to=2026-10-01", {"to"}),
        ("from=2026-02-30&to=2026-03-01", {"from"}),
        ("from=2027-01-01&to=2027-01-31", {"from"}),
        ("from=2026-10-01&to=2026-10-31&country=1&provider=-1", {"country", "provider"}),
    ],
)
def test_route_bad_input_is_422_naming_the_parameter(client, data, query, fields):
    response = client.get(f"/api/v1/stats?{query}", headers=bearer(data.sam))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation" and set(body["fields"]) == fields

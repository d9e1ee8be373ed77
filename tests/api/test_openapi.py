"""The OpenAPI document: valid, and true to the app's routes and the workflow.

(That real answers match it is checked by every API test: tests/api/contract.py.)
"""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from casemgr.cases import api_inputs
from casemgr.cases.fields import FieldSpec
from casemgr.cases.workflow import RULES
from tests.api.contract import resolve
from tests.api.test_auth import PROTECTED

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_served_document_is_the_built_one(anonymous, document):
    assert anonymous.get("/api/v1/openapi.json").json == document


def test_every_documented_operation_is_a_route_of_the_api(app, document):
    adapter = app.url_map.bind("localhost")
    for method, path, operation in operations(document):
        endpoint, arguments = adapter.match(concrete(path), method=method)
        assert endpoint.startswith("api."), (method, path, endpoint)
        rule = next(r for r in app.url_map.iter_rules(endpoint) if method in r.methods)
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert documented == set(re.findall(r"\{([^}]+)\}", path))
        # Route arguments not documented as parameters are fixed in the documented path.
        for name in set(rule.arguments) - documented:
            assert f"/{arguments[name]}" in path, (path, name)


def test_every_route_of_the_api_is_documented(app, document):
    adapter = app.url_map.bind("localhost")
    documented = {
        (method, adapter.match(concrete(path), method=method)[0])
        for method, path, _ in operations(document)
    }
    routes = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented


def test_one_documented_path_per_workflow_action(document):
    actions = {
        path.rsplit("/", 1)[1] for path in document["paths"] if "/{case_id}/actions/" in path
    }
    assert actions == {str(action) for action in RULES}


@pytest.mark.parametrize("action", list(RULES))
def test_action_bodies_are_the_workflow_fields(document, action):
    rule = RULES[action]
    operation = document["paths"][f"/api/v1/cases/{{case_id}}/actions/{action}"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {spec.name for spec in rule.fields} | {"version"}
    assert schema["additionalProperties"] is False
    conditions = schema.get("allOf", [schema] if "if" in schema else [])
    required_if = {name for condition in conditions for name in condition["then"]["required"]}
    for spec in rule.fields:
        field = schema["properties"][spec.name]
        always = spec.required and spec.required_if is None
        assert (spec.name in schema["required"]) == always
        # Not always required: may also be left out, null or blank ("not given").
        given = field if always else field["anyOf"][0]
        if not always:
            assert {"type": "null"} in field["anyOf"]
        if spec.choices:
            assert given["enum"] == list(spec.choices)
        assert (spec.name in required_if) == (spec.required_if is not None)
        if spec.required_when:
            assert spec.required_when in field["description"]
    assert str(rule.role) in operation["description"] or rule.role == "system"
    for status in sorted(rule.sources):
        assert status in operation["description"]


def test_every_field_kind_of_the_workflow_has_a_schema():
    kinds = {spec.kind for rule in RULES.values() for spec in rule.fields}
    for kind in kinds:
        assert api_inputs.action_field_schema(FieldSpec("x", kind, choices=("a",)))


def test_the_protected_operations_are_those_the_auth_tests_try(document):
    protected = {
        (method, re.sub(r"\{\w+\}", "{id}", path))
        for method, path, operation in operations(document)
        if operation.get("security", document["security"])
    }
    tried = {(method, re.sub(r"/1(?=/|$)", "/{id}", path)) for method, path in PROTECTED}
    actions = {(m, p) for m, p in protected if "/actions/" in p}
    assert tried - protected == set()
    assert protected - tried == actions - tried  # one action stands for all of them


def test_every_protected_operation_documents_401_and_the_document_is_public(document):
    for method, path, operation in operations(document):
        if path.endswith("/openapi.json"):
            assert operation["security"] == []
        else:
            assert "401" in operation["responses"], (method, path)
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_documented_query_parameters_are_the_ones_read(document):
    def query_names(path, method="get"):
        parameters = document["paths"][path][method].get("parameters", [])
        return {p["name"] for p in parameters if p["in"] == "query"}

    assert query_names("/api/v1/cases") == set(api_inputs.CASE_LIST_PARAMETERS)
    assert query_names("/api/v1/organizations") == {"kind"}


def test_the_limits_in_the_document_are_the_apps(app, document):
    body = document["paths"]["/api/v1/reports"]["post"]["requestBody"]
    urls = body["content"]["application/json"]["schema"]["properties"]["urls"]
    assert urls["maxItems"] == app.config["MAX_URLS_PER_SUBMISSION"]
    (per_page,) = [
        p
        for p in document["paths"]["/api/v1/cases"]["get"]["parameters"]
        if p["name"] == "per_page"
    ]
    assert per_page["schema"]["maximum"] == app.config["API_MAX_PER_PAGE"]


def test_every_error_response_is_the_envelope(document):
    for _, _, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = resolve(document, response)["content"]["application/json"]["schema"]
                refs = [schema] if "$ref" in schema else schema["oneOf"]
                for item in refs:
                    target = resolve(document, item)
                    assert {"error", "message"} <= set(target["required"]), (status, item)

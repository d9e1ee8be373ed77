"""A test client for the API that checks every answer against the OpenAPI document.

Each response the API tests receive goes through :meth:`ApiClient.open`, which
finds the documented operation, insists that the status is documented for it,
that the body is JSON in the error envelope where it is an error, that
documented headers are sent, and validates the body against the documented
schema (objects are closed, so an undocumented field fails too).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

Json = dict[str, Any]


class ApiClient:
    def __init__(self, client: FlaskClient, document: Json, token: str | None = None):
        self.client = client
        self.document = document
        self.token = token

    def as_token(self, token: str | None) -> ApiClient:
        return ApiClient(self.client, self.document, token)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("POST", path, **kwargs)

    def open(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> TestResponse:
        all_headers = dict(headers or {})
        if self.token is not None:
            all_headers.setdefault("Authorization", f"Bearer {self.token}")
        response = self.client.open(path, method=method, headers=all_headers, **kwargs)
        check_response(self.document, method, urlsplit(path).path, response)
        if response.status_code < 300 and kwargs.get("json") is not None:
            check_accepted_body(self.document, method, urlsplit(path).path, kwargs["json"])
        return response


def check_response(document: Json, method: str, path: str, response: TestResponse) -> None:
    assert response.mimetype == "application/json", (response.status, response.data[:200])
    body = response.get_json()
    if response.status_code >= 400:
        assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str), body
    operation = find_operation(document, method, path)
    if operation is None:
        # Not a documented operation: only "no such thing" answers are expected.
        assert response.status_code in (404, 405), (method, path, response.status_code)
        validate(document, {"$ref": "#/components/schemas/Error"}, body)
        return
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method} {path} answered {status}, not documented: {body}"
    )
    documented = resolve(document, operation["responses"][status])
    for header in documented.get("headers", {}):
        assert header in response.headers, f"documented header {header} missing"
    validate(document, documented["content"]["application/json"]["schema"], body)


def check_accepted_body(document: Json, method: str, path: str, body: Any) -> None:
    """A body the API accepted must fit the documented request schema: the
    document may not ask for less, or for something else, than the API takes."""
    operation = find_operation(document, method, path)
    assert operation is not None and "requestBody" in operation, (method, path)
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    validate(document, schema, body)


def find_operation(document: Json, method: str, path: str) -> Json | None:
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return item[method.lower()]
    return None


def resolve(document: Json, item: Json) -> Json:
    while "$ref" in item:
        node: Any = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


def validate(document: Json, schema: Json, instance: Any) -> None:
    """Validate ``instance`` with ``schema`` whose $refs point into ``document``."""
    validator = Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.path))
    assert not errors, "\n".join(
        f"{list(error.absolute_path)}: {error.message}" for error in errors[:10]
    )

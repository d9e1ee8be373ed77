"""The OpenAPI 3.1 document of API v1, served at GET /api/v1/openapi.json.

Built from the same schemas the serialisers stand beside (``schemas.py``) and,
for the case actions, from the workflow's table: one path per action, its
request body generated from the action's ``FieldSpec``s. The tests check it
against the app's routes and validate real responses against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from casemgr.api import inputs, schemas
from casemgr.api.schemas import ID, Json, enum_of, ref
from casemgr.cases.workflow import RULES, Status
from casemgr.domain import OrgKind

API_VERSION = "1.0.0"
PREFIX = "/api/v1"

DESCRIPTION = """\
JSON API of casemgr, for partners handing reports over and for staff tools.
It holds URLs and metadata, never the material itself.

**Authentication**: every operation except this document needs
`Authorization: Bearer <token>` (tokens: `flask --app wsgi users token EMAIL`).
Session cookies never authenticate the API.

**Errors** always come as `{"error": code, "message": text, ...}` with the
HTTP status; `error` is stable, `message` is for people. 400 `invalid_json`:
the body is not a JSON object; 415 `unsupported_media_type`: send
`Content-Type: application/json`; 413 `request_entity_too_large`; 422
`validation`: `fields` names each bad field, query parameter or header.
Unknown body fields and query parameters are refused (422), never ignored.
An action name that does not exist answers 404 `unknown_action` with
`allowed_actions`. `assign` without `assignee_id` takes the case for the
caller. More in docs/api.md.

**Versioning**: within v1, additions are optional request fields, optional
headers, new response fields and new operations; leaving a new one out keeps
the old behaviour. Clients must ignore response fields they do not know.
"""

_ERROR_RESPONSES: dict[str, tuple[str, str]] = {
    # name: (description, schema)
    "BadRequest": ("The body is not valid JSON, or not a JSON object", "Error"),
    "Unauthorized": ("No valid API token", "Error"),
    "Forbidden": ("The caller's role does not allow this", "Error"),
    "NotFound": ("No such case", "Error"),
    "PayloadTooLarge": ("The body is larger than the server accepts", "Error"),
    "UnsupportedMediaType": ("The body is not sent as application/json", "Error"),
    "ValidationFailed": ("A field, parameter or header is not acceptable", "ValidationError"),
}


def _error_response(name: str) -> Json:
    description, schema = _ERROR_RESPONSES[name]
    response: Json = {
        "description": description,
        "content": {"application/json": {"schema": ref(schema)}},
    }
    if name == "Unauthorized":
        response["headers"] = {
            "WWW-Authenticate": {
                "description": '`Bearer realm="casemgr"`, with `error="invalid_token"` '
                "when a token was sent",
                "schema": {"type": "string"},
            }
        }
    return response


def _errors(*statuses: int) -> Json:
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        413: "PayloadTooLarge",
        415: "UnsupportedMediaType",
        422: "ValidationFailed",
    }
    return {str(status): {"$ref": f"#/components/responses/{names[status]}"} for status in statuses}


def _ok(description: str, schema: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _body(schema: Json, *, required: bool = True) -> Json:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: Json, description: str) -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_BODY_ERRORS = (400, 401, 413, 415, 422)

_CASE_ID = {
    "name": "case_id",
    "in": "path",
    "required": True,
    "schema": ID,
    "description": "The case's id (not its reference)",
}

_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": '^(\\*|"?[0-9]+"?)$'},
    "description": "Optional optimistic lock: the case's `version` as you last saw it (plain "
    'or quoted: `3`, `"3"`). If the case changed since, nothing is done and the answer '
    "is 409 stale_version. Not a number: 422. Leave it out for no check.",
}


def _action_operation(action: str) -> Json:
    rule = RULES[action]  # type: ignore[index]
    return {
        "operationId": f"case_action_{action}",
        "tags": ["cases"],
        "summary": rule.label or action,
        "description": schemas.action_description(rule),
        "parameters": [_CASE_ID, _IF_MATCH],
        "requestBody": _body(schemas.action_request_schema(rule), required=False),
        "responses": {
            "200": _ok("Done: the case as it is now", "Case"),
            "409": {
                "description": "The action is not possible in the case's state "
                "(`invalid_transition`, with `allowed_actions`), or the case changed since "
                "the version given (`stale_version`)",
                "content": {
                    "application/json": {
                        "schema": {"oneOf": [ref("InvalidTransition"), ref("StaleVersion")]}
                    }
                },
            },
            **_errors(*_BODY_ERRORS, 403, 404),
        },
    }


def _feature_paths() -> Json:
    """Paths that features document beside their own routes (statistics, letters)."""
    from casemgr.notices.api import OPENAPI_PATHS as letters
    from casemgr.stats.openapi import OPENAPI_PATHS as statistics

    merged: Json = {}
    for path, operations in (statistics | letters).items():
        merged[f"{PREFIX}{path}"] = {
            method: {
                **operation,
                "security": [{"bearerAuth": []}],
                "responses": _shared_errors(operation["responses"]),
            }
            for method, operation in operations.items()
        }
    return merged


def _feature_schemas() -> Json:
    from casemgr.notices.api import OPENAPI_SCHEMAS as letters

    return letters


def _shared_errors(responses: Json) -> Json:
    """A fragment's own error responses replaced by the document's shared ones,
    so every error is documented as the one envelope with its headers."""
    errors = [int(status) for status in responses if int(status) >= 400]
    ok = {status: answer for status, answer in responses.items() if int(status) < 400}
    return ok | _errors(*errors)


def document(*, max_urls: int, max_per_page: int, languages: Sequence[str]) -> Json:
    """The whole OpenAPI document; the limits and languages are the app's settings."""
    paths: dict[str, Any] = {
        f"{PREFIX}/openapi.json": {
            "get": {
                "operationId": "openapi_document",
                "tags": ["meta"],
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_errors(422),
                },
            }
        },
        f"{PREFIX}/reports": {
            "post": {
                "operationId": "submit_report",
                "tags": ["reports"],
                "summary": "Hand over a report: one case per URL",
                "description": "Each distinct URL becomes a case. A URL that has an open "
                "case already becomes a case closed as its duplicate (`duplicate_of`). "
                "If any URL is not acceptable nothing is saved (422). A repeated "
                "`external_reference` from the same user returns the first submission "
                "with 200 and creates nothing.",
                "requestBody": _body(schemas.report_request_schema(max_urls, languages)),
                "responses": {
                    "201": _ok("Received: the submission and its new cases", "ReportResult"),
                    "200": _ok(
                        "Already received with this external_reference: the first submission",
                        "ReportResult",
                    ),
                    **_errors(*_BODY_ERRORS),
                },
            }
        },
        f"{PREFIX}/cases": {
            "get": {
                "operationId": "list_cases",
                "tags": ["cases"],
                "summary": "Cases, newest first",
                "parameters": [
                    _query("status", enum_of(Status), "Only cases in this state"),
                    _query(
                        "assignee",
                        {"type": "string", "pattern": "^(me|[0-9]+)$"},
                        "Only cases assigned to this user id, or to the caller (`me`)",
                    ),
                    _query(
                        "overdue",
                        {"type": "string", "enum": ["true"]},
                        "Only open cases past their current deadline",
                    ),
                    _query(
                        "q",
                        {"type": "string", "maxLength": inputs.MAX_QUERY_LENGTH},
                        "A case or submission reference, a full URL, or a host name",
                    ),
                    _query(
                        "page",
                        {"type": "integer", "minimum": 1, "maximum": inputs.MAX_PAGE, "default": 1},
                        "Page number, from 1",
                    ),
                    _query(
                        "per_page",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": max_per_page,
                            "default": min(inputs.DEFAULT_PER_PAGE, max_per_page),
                        },
                        "Cases per page",
                    ),
                ],
                "responses": {"200": _ok("A page of cases", "CaseList"), **_errors(401, 422)},
            }
        },
        f"{PREFIX}/cases/{{case_id}}": {
            "get": {
                "operationId": "get_case",
                "tags": ["cases"],
                "summary": "A case with its history and the actions the caller may take",
                "parameters": [_CASE_ID],
                "responses": {"200": _ok("The case", "Case"), **_errors(401, 404, 422)},
            }
        },
        f"{PREFIX}/organizations": {
            "get": {
                "operationId": "list_organizations",
                "tags": ["organizations"],
                "summary": "Active partner hotlines, police units and hosting providers",
                "parameters": [_query("kind", enum_of(OrgKind), "Only organisations of this kind")],
                "responses": {
                    "200": _ok("Organisations by name", "OrganisationList"),
                    **_errors(401, 422),
                },
            },
            "post": {
                "operationId": "create_organization",
                "tags": ["organizations"],
                "summary": "Add an organisation (supervisors and admins)",
                "requestBody": _body(schemas.ORGANISATION_REQUEST),
                "responses": {
                    "201": _ok("Created", "Organisation"),
                    **_errors(*_BODY_ERRORS, 403),
                },
            },
        },
    }
    for action in RULES:
        paths[f"{PREFIX}/cases/{{case_id}}/actions/{action}"] = {"post": _action_operation(action)}

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "casemgr API",
            "version": API_VERSION,
            "description": DESCRIPTION,
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "reports", "description": "Handing reports over"},
            {"name": "cases", "description": "Reading and working cases"},
            {"name": "organizations", "description": "The directory of organisations"},
            {"name": "meta", "description": "This document"},
            {"name": "statistics", "description": "The figures hotlines publish"},
            {"name": "notices", "description": "The letters sent, and their PDFs"},
        ],
        "paths": paths | _feature_paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token of an active member of staff",
                }
            },
            "schemas": schemas.all_component_schemas() | _feature_schemas(),
            "responses": {name: _error_response(name) for name in _ERROR_RESPONSES},
        },
    }

"""The OpenAPI 3.1 document of API v1, served at GET /api/v1/openapi.json.

Assembled from the parts each feature writes beside its routes: the paths and
schemas of cases (``casemgr/cases/api.py``, ``cases/schemas.py``), of the
directory, of letters and of statistics; the shared error schemas and
responses are the API's own (``schemas``, ``operations``). The case actions'
paths (one case at a time and in bulk) come from the workflow's table. The
tests check the document against the app's routes and validate real
responses against it.

This is the one module of the API's plumbing that imports the features.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from flask import request

from casemgr import context
from casemgr.api import bp, operations
from casemgr.api.inputs import query_parameters
from casemgr.api.schemas import ERROR_SCHEMAS, GUARDED_TEXT, Json
from casemgr.cases import api as cases_api
from casemgr.cases import bulk_api as cases_bulk_api
from casemgr.cases import schemas as cases_schemas
from casemgr.directory import api as directory_api
from casemgr.directory import schemas as directory_schemas
from casemgr.notices import api as notices_api
from casemgr.stats import openapi as stats_openapi

API_VERSION = "1.0.0"
PREFIX = "/api/v1"

DESCRIPTION = """\
JSON API of casemgr, for partners handing reports over and for staff tools.
It holds URLs and metadata, never the material itself.

**Authentication**: every operation except this document needs
`Authorization: Bearer <token>` (tokens: `flask --app wsgi users token EMAIL`).
Session cookies never authenticate the API.

**Partner accounts**: a partner hotline's installation calls the API with the
token of an account of role `partner`, tied to its organisation in the
directory. It may only send reports (`POST /reports`) and read their status:
`GET /submissions/{reference}` and `GET /cases/{case_id}` of its own
submissions, in the reduced views `PartnerSubmission` and `PartnerCase`
(nothing of the reporter, the staff, the classification, the organisations,
other cases, the history or notes). Another partner's submission or case, or
one staff entered, is 404 as if it did not exist; every other operation is
403 `forbidden` for it.

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


@bp.get("/openapi.json")
def openapi_document():
    query_parameters(request.args, ())
    return document(
        max_urls=context.setting("MAX_URLS_PER_SUBMISSION"),
        max_per_page=context.setting("API_MAX_PER_PAGE"),
        languages=context.setting("LANGUAGES"),
    )


def document(*, max_urls: int, max_per_page: int, languages: Sequence[str]) -> Json:
    """The whole OpenAPI document; the limits and languages are the app's settings."""
    paths: dict[str, Any] = {
        "/openapi.json": {
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
                    **operations.errors(422),
                },
            }
        },
    }
    paths |= cases_api.openapi_paths(
        max_urls=max_urls, max_per_page=max_per_page, languages=languages
    )
    paths |= cases_bulk_api.openapi_paths()
    paths |= directory_api.OPENAPI_PATHS
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
        "paths": _guarded_inputs(
            _partners_may_be_refused(
                {f"{PREFIX}{path}": item for path, item in paths.items()}
                | _fragment_paths(max_per_page)
            )
        ),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token of an active member of staff (acting "
                    "with the account's role), or of a partner hotline's account (role "
                    "`partner`: its own reports only)",
                }
            },
            "schemas": ERROR_SCHEMAS
            | cases_schemas.SCHEMAS
            | cases_bulk_api.OPENAPI_SCHEMAS
            | directory_schemas.SCHEMAS
            | notices_api.OPENAPI_SCHEMAS,
            "responses": {
                name: operations.error_response(name) for name in operations.ERROR_RESPONSES
            },
        },
    }


def _partners_may_be_refused(paths: Json) -> Json:
    """``paths`` where every operation that needs a token may answer 403: a partner
    account is refused by all but its own few (``casemgr.api.auth.token_required``)."""
    return {
        path: {
            method: operation
            if operation.get("security") == [] or "403" in operation["responses"]
            else {**operation, "responses": operation["responses"] | operations.errors(403)}
            for method, operation in item.items()
        }
        for path, item in paths.items()
    }


def _fragment_paths(max_per_page: int) -> Json:
    """The paths of statistics and letters: fragments that stand alone (their own
    error schemas, no security), fitted to the document."""
    merged: Json = {}
    fragments = stats_openapi.OPENAPI_PATHS | notices_api.openapi_paths(max_per_page)
    for path, item in fragments.items():
        merged[f"{PREFIX}{path}"] = {
            method: {
                **operation,
                "security": [{"bearerAuth": []}],
                "responses": _shared_errors(operation["responses"]),
            }
            for method, operation in item.items()
        }
    return merged


def _shared_errors(responses: Json) -> Json:
    """A fragment's own error responses replaced by the document's shared ones,
    so every error is documented as the one envelope with its headers."""
    errors = [int(status) for status in responses if int(status) >= 400]
    ok = {status: answer for status, answer in responses.items() if int(status) < 400}
    return ok | operations.errors(*errors)


def _guarded_inputs(paths: Json) -> Json:
    """``paths`` where every text a request carries (query, header, body) that has no
    stricter rule of its own says what the input guard refuses in any text
    (``casemgr/inputs.py``): control characters other than tab and line breaks."""
    paths = copy.deepcopy(paths)  # the features' parts are shared module data
    for item in paths.values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                _guard(parameter["schema"])
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _guard(media["schema"])
    return paths


def _guard(schema: Any) -> None:
    if isinstance(schema, list):
        for item in schema:
            _guard(item)
        return
    if not isinstance(schema, dict):
        return
    kinds = schema.get("type")
    is_text = kinds == "string" or (isinstance(kinds, list) and "string" in kinds)
    if is_text and not {"pattern", "enum", "const", "format", "anyOf"} & schema.keys():
        schema["pattern"] = GUARDED_TEXT
    for key in ("properties", "patternProperties"):
        for child in schema.get(key, {}).values():
            _guard(child)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "then", "else"):
        _guard(schema.get(key))

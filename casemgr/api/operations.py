"""Pieces of OpenAPI operations that every resource's paths share.

A feature describes its own operations beside its routes (``<feature>/api.py``)
with these: answers with a schema, request bodies, query parameters, paging,
and the shared error responses (each status one envelope, documented once in
``components/responses`` by ``openapi.py``).
"""

from __future__ import annotations

from casemgr.api.inputs import DEFAULT_PER_PAGE, MAX_PAGE
from casemgr.api.schemas import BLANK, Json, ref

ERROR_RESPONSES: dict[str, tuple[str, str]] = {
    # name: (description, schema)
    "BadRequest": ("The body is not valid JSON, or not a JSON object", "Error"),
    "Unauthorized": ("No valid API token", "Error"),
    "Forbidden": ("The caller's role does not allow this", "Error"),
    "NotFound": ("No such case or submission, or not one the caller may see", "Error"),
    "PayloadTooLarge": ("The body is larger than the server accepts", "Error"),
    "UnsupportedMediaType": ("The body is not sent as application/json", "Error"),
    "ValidationFailed": ("A field, parameter or header is not acceptable", "ValidationError"),
}

_ERROR_BY_STATUS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationFailed",
}

# What an operation that takes a JSON body can answer besides its own errors.
BODY_ERRORS = (400, 401, 413, 415, 422)


def error_response(name: str) -> Json:
    """The component ``responses/<name>`` (one of :data:`ERROR_RESPONSES`)."""
    description, schema = ERROR_RESPONSES[name]
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


def errors(*statuses: int) -> Json:
    """The shared error responses of ``statuses``, by reference."""
    return {
        str(status): {"$ref": f"#/components/responses/{_ERROR_BY_STATUS[status]}"}
        for status in statuses
    }


def ok(description: str, schema: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def body(schema: Json, *, required: bool = True) -> Json:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def query(name: str, schema: Json, description: str) -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


EMPTY = {"type": "string", "const": ""}


def or_empty(schema: Json, *, blank: bool = False) -> Json:
    """``schema``, or an empty value meaning "not given" (``blank``: also one of
    blank space only), as v1 has always read that parameter (docs/api.md)."""
    return {"anyOf": [schema, BLANK if blank else EMPTY]}


def paging_parameters(max_per_page: int, *, items: str) -> list[Json]:
    """``page`` and ``per_page`` of a list, as ``inputs.page_and_size`` reads them."""
    return [
        query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            "Page number, from 1",
        ),
        query(
            "per_page",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": max_per_page,
                "default": min(DEFAULT_PER_PAGE, max_per_page),
            },
            f"{items} per page",
        ),
    ]

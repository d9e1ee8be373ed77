"""Reading API requests: JSON bodies and query strings, the same way for every resource.

Only the *shape* of a request is checked here (JSON types, unknown fields,
paging bounds); what a value means is the services' and the workflow's to
judge. Each feature's API reads its own requests with these helpers, from the
same schemas ``openapi.py`` publishes.

Choices that hold for the whole API (see docs/api.md):
- a body must be a JSON object sent as ``application/json`` (an empty body
  counts as ``{}``); anything else is 415 or 400;
- unknown body fields and unknown query parameters are refused with 422
  naming them, never ignored: a misspelt field must not change the meaning
  of a request (``{"assigne_id": 7}`` would otherwise take the case for the
  caller);
- ``null`` for an optional field means "not given".
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from casemgr.api.errors import ApiError
from casemgr.errors import ValidationFailed

Json = dict[str, Any]
Errors = dict[str, list[str]]

DEFAULT_PER_PAGE = 50
MAX_PAGE = 10**6
_DIGITS = re.compile(r"[0-9]{1,10}")

_TYPE_NAMES = {
    "string": "text",
    "boolean": "true or false",
    "integer": "a whole number",
    "array": "a list",
    "object": "an object",
}


# --- the body


def json_object() -> Json:
    """The request body as a JSON object; ``{}`` when the body is empty.

    Raises ApiError 415 (not JSON) and 400 (malformed, or not an object); an
    over-large body is refused with 413, and text no database can store (NUL,
    unpaired surrogates) with 422, before this (casemgr.inputs).
    """
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the body as JSON with the header 'Content-Type: application/json'",
        )
    try:
        body = json.loads(data, parse_float=_number)
    except ValueError as exc:  # includes bytes that are not UTF-8
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(
            400, "invalid_json", f"the body must be a JSON object, not {_json_type(body)}"
        )
    return body


def _number(text: str) -> int | float:
    """A JSON number with a fraction or exponent: a whole one (``165.0``, ``1e3``) is
    an integer, as JSON Schema counts it, so it passes where the document says
    integer."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return "a number"


def unknown_fields(body: Mapping[str, Any], known: Collection[str]) -> Errors:
    return {
        name: ["is not a field of this request (see /api/v1/openapi.json)"]
        for name in body
        if name not in known
    }


def shape_errors(body: Mapping[str, Any], schema: Json) -> Errors:
    """Unknown fields, and fields whose JSON type or choice the schema does not allow."""
    properties: Json = schema["properties"]
    errors = unknown_fields(body, properties)
    for name, value in body.items():
        if name in errors:
            continue
        allowed = properties[name].get("type")
        types = allowed if isinstance(allowed, list) else [allowed]
        if not any(_is_of_type(value, kind) for kind in types if kind):
            wanted = " or ".join(_TYPE_NAMES[kind] for kind in types if kind != "null")
            errors[name] = [f"must be {wanted}"]
        elif value is not None and "enum" in properties[name]:
            choices = [choice for choice in properties[name]["enum"] if choice is not None]
            if value not in choices:
                errors[name] = [f"must be one of: {', '.join(choices)}"]
    return errors


def _is_of_type(value: Any, kind: str) -> bool:
    match kind:
        case "null":
            return value is None
        case "string":
            return isinstance(value, str)
        case "boolean":
            return isinstance(value, bool)
        case "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        case "array":
            return isinstance(value, list)
        case "object":
            return isinstance(value, dict)
    raise AssertionError(f"no check for JSON type {kind}")  # pragma: no cover


def given(body: Mapping[str, Any], errors: Errors) -> Json:
    """The fields that are present, not null and of the right shape."""
    return {name: value for name, value in body.items() if value is not None and name not in errors}


# --- query strings


def query_parameters(args: MultiDict[str, str], known: Collection[str]) -> None:
    """Refuse (422) query parameters that are not ``known`` or that are repeated."""
    errors = unknown_or_repeated(args, known)
    if errors:
        raise ValidationFailed(errors)


def unknown_or_repeated(args: MultiDict[str, str], known: Collection[str]) -> Errors:
    """Messages for the query parameters that are not ``known`` or are given twice."""
    errors: Errors = {}
    for name in args:
        if name not in known:
            errors[name] = ["is not a parameter of this request (see /api/v1/openapi.json)"]
        elif len(args.getlist(name)) > 1:
            errors[name] = ["must be given once"]
    return errors


def page_and_size(
    args: MultiDict[str, str], *, max_per_page: int, errors: Errors
) -> tuple[int, int]:
    """The ``page`` and ``per_page`` of a list; a bad one is named in ``errors``."""
    page = _paging(args, "page", 1, MAX_PAGE, default=1, errors=errors)
    per_page = _paging(
        args,
        "per_page",
        1,
        max_per_page,
        default=min(DEFAULT_PER_PAGE, max_per_page),
        errors=errors,
    )
    return page, per_page


def _paging(
    args: MultiDict[str, str], name: str, low: int, high: int, *, default: int, errors: Errors
) -> int:
    raw = args.get(name)
    if raw is None or name in errors:
        return default
    value = bounded_int(raw, low, high)
    if value is None:
        errors[name] = [f"must be a whole number from {low} to {high}"]
        return default
    return value


def bounded_int(text: str, low: int, high: int) -> int | None:
    """``text`` as a whole number from ``low`` to ``high``; None if it is not one."""
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None

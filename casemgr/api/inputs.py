"""Reading API requests: JSON bodies, query strings and headers, into service inputs.

Only the *shape* of a request is checked here (JSON types, unknown fields,
paging bounds); what a value means is the services' and the workflow's to
judge. Shapes are read from the same schemas ``openapi.py`` publishes.

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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from casemgr.api import schemas
from casemgr.api.errors import ApiError
from casemgr.cases import services as cases
from casemgr.cases.workflow import ActionRule, Status
from casemgr.database import MAX_ID
from casemgr.directory import inputs as directory
from casemgr.errors import ValidationFailed
from casemgr.intake.urls import InvalidURL, normalise_url

Json = dict[str, Any]
Errors = dict[str, list[str]]

DEFAULT_PER_PAGE = 50
MAX_QUERY_LENGTH = 2048
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

    Raises ApiError 415 (not JSON), 400 (malformed, or not an object) and
    ValidationFailed for text that no database can store (NUL characters,
    unpaired surrogates); an over-large body is refused with 413 before this.
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
        body = json.loads(data)
    except ValueError as exc:  # includes bytes that are not UTF-8
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(
            400, "invalid_json", f"the body must be a JSON object, not {_json_type(body)}"
        )
    unstorable = [name for name, value in body.items() if not _storable(name, value)]
    if unstorable:
        raise ValidationFailed(
            {
                name: ["must not contain NUL characters or unpaired surrogates"]
                for name in unstorable
            }
        )
    return body


def _storable(*values: Any) -> bool:
    """No text anywhere in ``values`` holds NUL or an unpaired surrogate (iterative:
    JSON nests deeper than Python recurses)."""
    pending = list(values)
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value or not _encodes(value):
                return False
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
    return True


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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


def _given(body: Mapping[str, Any], errors: Errors) -> Json:
    """The fields that are present, not null and of the right shape."""
    return {name: value for name, value in body.items() if value is not None and name not in errors}


# --- reports


def report_input(
    body: Mapping[str, Any], *, max_urls: int, languages: Sequence[str]
) -> cases.ReportInput:
    """A report from the body; raises ValidationFailed naming each bad field and URL.

    Bad URLs are named by their index in ``urls``: ``"urls[3]: message"``.
    """
    errors = shape_errors(body, schemas.report_request_schema(max_urls, languages))
    given = _given(body, errors)
    raw_urls: list[Any] = given.get("urls", [])
    report = cases.ReportInput(
        urls=raw_urls,
        source=given.get("source", "partner"),
        description=given.get("description", ""),
        external_reference=given.get("external_reference"),
        reporter_contact=given.get("reporter_contact"),
        feedback_requested=given.get("feedback_requested", False),
        language=given.get("language"),
    )
    try:
        report.validate(max_urls, languages=languages)
    except ValidationFailed as exc:
        errors = exc.fields | errors
    if "urls" not in errors:
        report.urls, url_errors = _normalise_urls(raw_urls)
        if url_errors:
            errors["urls"] = url_errors
    if errors:
        raise ValidationFailed(errors)
    return report


def _normalise_urls(raw_urls: list[Any]) -> tuple[list[str], list[str]]:
    urls: list[str] = []
    errors: list[str] = []
    for index, raw in enumerate(raw_urls):
        if not isinstance(raw, str):
            errors.append(f"urls[{index}]: must be text")
            continue
        try:
            urls.append(normalise_url(raw))
        except InvalidURL as exc:
            errors.append(f"urls[{index}]: {exc.message}")
    return urls, errors


# --- organisations


def organisation_input(body: Mapping[str, Any]) -> directory.OrganisationInput:
    """An organisation from the body; raises ValidationFailed naming each bad field."""
    errors = shape_errors(body, schemas.ORGANISATION_REQUEST)
    given = _given(body, errors)
    data = directory.OrganisationInput(
        kind=given.get("kind", ""),
        name=given.get("name", ""),
        country=given.get("country"),
        email=given.get("email"),
        language=given.get("language", "en"),
        address=given.get("address", ""),
    )
    try:
        directory.validate(data)
    except ValidationFailed as exc:
        errors = exc.fields | errors
    if errors:
        raise ValidationFailed(errors)
    return data


# --- case actions


@dataclass(frozen=True)
class ActionRequest:
    fields: Json
    expected_version: int | None


def action_request(
    body: Mapping[str, Any], rule: ActionRule, *, if_match: str | None
) -> ActionRequest:
    """The action's fields and the optional version from If-Match or the body.

    The fields themselves are parsed by the workflow; here only unknown names
    and the version are checked.
    """
    names = {spec.name for spec in rule.fields} | {"version"}
    errors = unknown_fields(body, names)
    body_version = body.get("version")
    if body_version is not None and not (
        isinstance(body_version, int) and not isinstance(body_version, bool) and body_version >= 0
    ):
        errors["version"] = ["must be the case's version: a whole number"]
        body_version = None
    header_version = None
    if if_match is not None:
        header_version = _if_match_version(if_match)
        if header_version is None and if_match.strip() != "*":
            errors["If-Match"] = ["must be the case's version number, e.g. If-Match: 3"]
    if header_version is not None and body_version is not None and header_version != body_version:
        errors["If-Match"] = ["does not match the body's version; send one of them"]
    if errors:
        raise ValidationFailed(errors)
    fields = {name: value for name, value in body.items() if name != "version"}
    expected = header_version if header_version is not None else body_version
    return ActionRequest(fields, expected)


def _if_match_version(header: str) -> int | None:
    """``3`` or ``"3"`` (an entity tag); None for anything else (``*`` included)."""
    text = header.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return int(text) if _DIGITS.fullmatch(text) else None


# --- query strings


@dataclass(frozen=True)
class CaseListQuery:
    filters: cases.QueueFilter
    page: int
    per_page: int


CASE_LIST_PARAMETERS = ("status", "assignee", "overdue", "q", "page", "per_page")


def case_list_query(args: MultiDict[str, str], *, user_id: int, max_per_page: int) -> CaseListQuery:
    """The filters and page of GET /cases; raises ValidationFailed naming each bad parameter."""
    errors = _unknown_or_repeated(args, CASE_LIST_PARAMETERS)
    status = args.get("status") or None
    if status is not None and status not in set(Status):
        errors["status"] = [f"must be one of: {', '.join(Status)}"]
    assignee_id = None
    assignee = args.get("assignee") or None
    if assignee == "me":
        assignee_id = user_id
    elif assignee is not None:
        assignee_id = _bounded_int(assignee, 1, MAX_ID)
        if assignee_id is None:
            errors["assignee"] = ["must be a user id or 'me'"]
    overdue = args.get("overdue") or None
    if overdue is not None and overdue != "true":
        errors["overdue"] = ["must be 'true' (leave it out for every case)"]
    q = (args.get("q") or "").strip() or None
    if q is not None and len(q) > MAX_QUERY_LENGTH:
        errors["q"] = [f"must be at most {MAX_QUERY_LENGTH} characters"]
    elif q is not None and not _storable(q):
        errors["q"] = ["must not contain NUL characters"]
    page = _paging(args, "page", 1, MAX_PAGE, default=1, errors=errors)
    per_page = _paging(
        args,
        "per_page",
        1,
        max_per_page,
        default=min(DEFAULT_PER_PAGE, max_per_page),
        errors=errors,
    )
    if errors:
        raise ValidationFailed(errors)
    filters = cases.QueueFilter(
        view="overdue" if overdue else "all", status=status, assignee_id=assignee_id, q=q
    )
    return CaseListQuery(filters, page, per_page)


def organisation_kind(args: MultiDict[str, str]) -> str | None:
    """The ``kind`` filter of GET /organizations; raises ValidationFailed."""
    errors = _unknown_or_repeated(args, ("kind",))
    kind = args.get("kind") or None
    choices = schemas.ORGANISATION_REQUEST["properties"]["kind"]["enum"]
    if kind is not None and kind not in choices:
        errors["kind"] = [f"must be one of: {', '.join(choices)}"]
    if errors:
        raise ValidationFailed(errors)
    return kind


def query_parameters(args: MultiDict[str, str], known: Collection[str]) -> None:
    """Refuse (422) query parameters that are not ``known`` or that are repeated."""
    errors = _unknown_or_repeated(args, known)
    if errors:
        raise ValidationFailed(errors)


def _unknown_or_repeated(args: MultiDict[str, str], known: Collection[str]) -> Errors:
    errors: Errors = {}
    for name in args:
        if name not in known:
            errors[name] = ["is not a parameter of this request (see /api/v1/openapi.json)"]
        elif len(args.getlist(name)) > 1:
            errors[name] = ["must be given once"]
    return errors


def _paging(
    args: MultiDict[str, str], name: str, low: int, high: int, *, default: int, errors: Errors
) -> int:
    raw = args.get(name)
    if raw is None or name in errors:
        return default
    value = _bounded_int(raw, low, high)
    if value is None:
        errors[name] = [f"must be a whole number from {low} to {high}"]
        return default
    return value


def _bounded_int(text: str, low: int, high: int) -> int | None:
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None

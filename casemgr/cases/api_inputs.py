"""What the cases API hears: each request body's schema beside the code reading it.

Reports (POST /reports), case actions (POST /cases/<id>/actions/<action>),
notes (POST /cases/<id>/notes) and the case list's query string (GET /cases).
Only the *shape* is checked here, with the API's shared readers
(``casemgr.api.inputs``); what a value means is the services' and the
workflow's to judge. The schemas of the case actions are
generated from the workflow's table (``workflow.RULES``), never written out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from casemgr.api.inputs import (
    bounded_int,
    given,
    page_and_size,
    shape_errors,
    unknown_fields,
    unknown_or_repeated,
)
from casemgr.api.schemas import (
    BLANK,
    COUNTRY_GIVEN,
    ID,
    ISO_TEXT,
    TEXT,
    TIME,
    VERSION,
    Json,
    closed_object,
    enum_of,
    nullable,
)
from casemgr.cases import queries, receiving
from casemgr.cases.fields import (
    ILLEGAL,
    MAX_CASE_REFERENCE_LENGTH,
    MAX_REASON_LENGTH,
    FieldSpec,
    is_illegal,
)
from casemgr.cases.notes import MAX_NOTE_LENGTH
from casemgr.cases.states import Status
from casemgr.cases.workflow import ActionRule
from casemgr.database import MAX_ID
from casemgr.errors import ValidationFailed
from casemgr.intake.urls import MAX_URL_LENGTH, InvalidURL, normalise_url

CASE_LIST_PARAMETERS = ("status", "assignee", "overdue", "view", "q", "page", "per_page")
_DIGITS = re.compile(r"[0-9]{1,10}")


# --- reports


def report_request_schema(max_urls: int, languages: Sequence[str]) -> Json:
    return closed_object(
        {
            "urls": {
                "type": "array",
                "items": {"type": "string", "maxLength": MAX_URL_LENGTH},
                "minItems": 1,
                "maxItems": max_urls,
                "description": "The reported URLs; each becomes its own case. They are "
                "normalised (scheme and host lower-cased, default port and fragment "
                "dropped); repeats within one report are collapsed.",
            },
            "description": {**nullable(TEXT), "maxLength": receiving.MAX_DESCRIPTION_LENGTH},
            "source": {
                **nullable(enum_of(receiving.API_SOURCES)),
                "default": "partner",
                "description": "Where the report came from (`public` is the public form's only)",
            },
            "external_reference": {
                **nullable(TEXT),
                "maxLength": receiving.MAX_EXTERNAL_REFERENCE_LENGTH,
                "description": "Your own reference. Sending the same one again returns the "
                "first submission (200) instead of creating new cases: retry safely.",
            },
            "reporter_contact": {
                **nullable(TEXT),
                "maxLength": receiving.MAX_CONTACT_LENGTH,
                "description": "Stored encrypted; never returned by the API",
            },
            "feedback_requested": {**nullable({"type": "boolean"}), "default": False},
            "language": {
                **nullable(enum_of(languages)),
                "description": "The language the reporter used (the hotline's languages); "
                "their feedback e-mail is written in it. Left out: not known, and the "
                "feedback uses the hotline's default language",
            },
        },
        optional=(
            "description",
            "source",
            "external_reference",
            "reporter_contact",
            "feedback_requested",
            "language",
        ),
    )


def report_input(
    body: Mapping[str, Any], *, max_urls: int, languages: Sequence[str]
) -> receiving.ReportInput:
    """A report from the body; raises ValidationFailed naming each bad field and URL.

    Bad URLs are named by their index in ``urls``: ``"urls[3]: message"``.
    """
    errors = shape_errors(body, report_request_schema(max_urls, languages))
    present = given(body, errors)
    raw_urls: list[Any] = present.get("urls", [])
    report = receiving.ReportInput(
        urls=raw_urls,
        source=present.get("source", "partner"),
        description=present.get("description", ""),
        external_reference=present.get("external_reference"),
        reporter_contact=present.get("reporter_contact"),
        feedback_requested=present.get("feedback_requested", False),
        language=present.get("language"),
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


# --- case actions

VERSION_FIELD: Json = {
    **VERSION,
    "description": "Optional optimistic lock, as the If-Match header: act only if the case's "
    "`version` is still this one (else 409 stale_version)",
}

# Each kind of field as the workflow's parsers read it (``casemgr/cases/fields.py``):
# blank space around a value is ignored, and ids, yes-or-no and times may also come
# as the text a form sends.
_NON_BLANK_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*[^\s\x00-\x08\x0e-\x1b]"
_FIELD_KINDS: dict[str, Json] = {
    "id": {
        "anyOf": [ID, {"type": "string", "pattern": r"^\s*\d+\s*$"}],
        "description": 'A whole number (also as text: `"12"`)',
    },
    "country": COUNTRY_GIVEN,
    "ip": {
        "type": "string",
        "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
        "description": "IPv4 or IPv6 address",
    },
    "bool": {
        "anyOf": [
            {"type": "boolean"},
            {"type": "string", "pattern": r"(?i)^\s*(true|yes|on|1|false|no|off|0)\s*$"},
        ]
    },
    "datetime": {
        "anyOf": [TIME, ISO_TEXT],
        "description": "ISO 8601; without an offset it is taken as UTC",
    },
    "text": {
        **TEXT,
        "maxLength": MAX_REASON_LENGTH,
        "pattern": _NON_BLANK_TEXT + r"[^\x00-\x08\x0b\x0c\x0e-\x1f]*$",
    },
}

# The declarative form of a FieldSpec's ``required_if``: when the other fields make
# it required (JSON Schema ``if``).
_REQUIRED_IF: dict[Any, Json] = {
    is_illegal: {
        "properties": {"classification": {"enum": sorted(ILLEGAL)}},
        "required": ["classification"],
    }
}


def action_field_schema(spec: FieldSpec) -> Json:
    """The JSON Schema of one workflow field as given, from its kind, choices and
    reference (an optional one may also be null or blank: see :func:`action_fields`)."""
    if spec.kind == "choice":
        schema = enum_of(spec.choices)
    elif spec.refers_to == "case":
        # Another case may be named by its id or by its reference (CM-2026-000042).
        schema = {
            "oneOf": [dict(ID), {**TEXT, "minLength": 1, "maxLength": MAX_CASE_REFERENCE_LENGTH}]
        }
    else:
        schema = dict(_FIELD_KINDS[spec.kind])
    notes = [note for note in (schema.pop("description", ""), _refers_to(spec.refers_to)) if note]
    if spec.required_when:
        notes.append(f"Required when {spec.required_when}.")
    if spec.label:
        schema["title"] = spec.label
    if notes:
        schema["description"] = ". ".join(note.rstrip(".") for note in notes) + "."
    return schema


def _refers_to(target: str | None) -> str:
    if target is None:
        return ""
    if target == "staff":
        return "Id of an active member of staff"
    if target == "case":
        return "Another case: its id, or its reference (e.g. CM-2026-000042)"
    return (
        f"Id of an active organisation of kind {target} (GET /api/v1/organizations?kind={target})"
    )


def action_fields(specs: Sequence[FieldSpec]) -> tuple[Json, list[str], list[Json]]:
    """The properties of an action's fields, the names always required, and the
    conditional requirements (``if``/``then``). A field that is not always required
    may be left out, null or blank ("not given"); where a condition requires it, it
    must be given."""
    properties: Json = {}
    required: list[str] = []
    conditions: list[Json] = []
    for spec in specs:
        schema = action_field_schema(spec)
        if spec.required and spec.required_if is None:
            properties[spec.name] = schema
            required.append(spec.name)
            continue
        annotations = {key: schema.pop(key) for key in ("title", "description") if key in schema}
        properties[spec.name] = {"anyOf": [schema, BLANK, {"type": "null"}], **annotations}
        if spec.required_if is not None:
            conditions.append(
                {
                    "if": _REQUIRED_IF[spec.required_if],
                    "then": {"required": [spec.name], "properties": {spec.name: schema}},
                }
            )
    return properties, required, conditions


def with_conditions(schema: Json, conditions: list[Json]) -> Json:
    if len(conditions) == 1:
        return schema | conditions[0]
    return schema | ({"allOf": conditions} if conditions else {})


def action_request_schema(rule: ActionRule) -> Json:
    properties, required, conditions = action_fields(rule.fields)
    return with_conditions(
        {
            "type": "object",
            "title": rule.label,
            "properties": properties | {"version": nullable(VERSION_FIELD)},
            "required": required,
            "additionalProperties": False,
        },
        conditions,
    )


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


# --- notes


_NOT_IN_NOTES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"


def note_request_schema() -> Json:
    return closed_object(
        {
            "body": {
                **TEXT,
                "minLength": 1,
                "maxLength": MAX_NOTE_LENGTH,
                # Something besides blank space; no control character but tab and
                # line breaks (C0 and C1, as casemgr.cases.notes refuses them).
                "pattern": rf"^[^{_NOT_IN_NOTES}]*[^\s{_NOT_IN_NOTES}][^{_NOT_IN_NOTES}]*$",
                "description": "The note, plain text: line breaks (`\\n`) and tabs are kept, "
                "other control characters are refused (422). Blank space at either end "
                f"is removed; what is left must be 1 to {MAX_NOTE_LENGTH} characters. "
                "Never a description of the material.",
            }
        }
    )


def note_body(body: Mapping[str, Any]) -> str:
    """The text of a new note; raises ValidationFailed naming ``body`` (missing,
    null, not text) or an unknown field. What the text may hold is the
    service's to judge (``notes.add_note``)."""
    errors = shape_errors(body, note_request_schema())
    text = given(body, errors).get("body")
    if text is None and "body" not in errors:
        errors["body"] = ["is required"]
    if errors:
        raise ValidationFailed(errors)
    return text


# --- the case list


@dataclass(frozen=True)
class CaseListQuery:
    filters: queries.QueueFilter
    page: int
    per_page: int


def case_list_query(args: MultiDict[str, str], *, user_id: int, max_per_page: int) -> CaseListQuery:
    """The filters and page of GET /cases; raises ValidationFailed naming each bad parameter."""
    errors = unknown_or_repeated(args, CASE_LIST_PARAMETERS)
    status = args.get("status") or None
    if status is not None and status not in set(Status):
        errors["status"] = [f"must be one of: {', '.join(Status)}"]
    assignee_id = None
    assignee = args.get("assignee") or None
    if assignee == "me":
        assignee_id = user_id
    elif assignee is not None:
        assignee_id = bounded_int(assignee, 1, MAX_ID)
        if assignee_id is None:
            errors["assignee"] = ["must be a user id or 'me'"]
    overdue = args.get("overdue") or None
    if overdue is not None and overdue != "true":
        errors["overdue"] = ["must be 'true' (leave it out for every case)"]
    view = args.get("view") or ("overdue" if overdue else "all")
    if view not in queries.QUEUE_VIEWS:
        errors["view"] = [f"must be one of: {', '.join(queries.QUEUE_VIEWS)}"]
    q = (args.get("q") or "").strip() or None
    if q is not None and len(q) > queries.MAX_QUERY_LENGTH:
        errors["q"] = [f"must be at most {queries.MAX_QUERY_LENGTH} characters"]
    page, per_page = page_and_size(args, max_per_page=max_per_page, errors=errors)
    if errors:
        raise ValidationFailed(errors)
    filters = queries.QueueFilter(
        view=view, status=status, assignee_id=assignee_id, q=q, overdue=bool(overdue)
    )
    return CaseListQuery(filters, page, per_page)

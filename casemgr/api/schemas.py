"""What the API says, and the JSON Schema of each thing it says, side by side.

Every response body is built by a function here, and next to it stands the
schema that ``openapi.py`` publishes for it. The tests validate every API
response they receive against the published schema (objects are closed:
``additionalProperties: false``), so a field added here without its schema,
or the other way round, fails the suite.

Request bodies are described here too; the schemas of the case actions are
generated from the workflow's table (``workflow.RULES``), never written out.

The reporter's contact details are never part of any API output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from casemgr.auth.models import User
from casemgr.cases import services as cases
from casemgr.cases.models import Case, CaseEvent, Submission
from casemgr.cases.workflow import (
    MAX_REASON_LENGTH,
    ActionRule,
    AgeGroup,
    Classification,
    FieldSpec,
    MediaType,
    Resolution,
    SiteType,
    Status,
)
from casemgr.database import MAX_ID
from casemgr.directory.inputs import LANGUAGES
from casemgr.directory.models import Organisation
from casemgr.domain import Actor, OrgKind, Role
from casemgr.intake.urls import MAX_URL_LENGTH

Json = dict[str, Any]

# --- schema building blocks


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Json) -> Json:
    """``schema`` or null."""
    if "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    widened = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        widened["enum"] = [*schema["enum"], None]
    return widened


def closed_object(properties: Json, *, optional: Iterable[str] = (), **extra: Any) -> Json:
    """An object with exactly these properties, all required except ``optional``."""
    skipped = set(optional)
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in skipped],
        "additionalProperties": False,
        **extra,
    }


def enum_of(values: type[StrEnum] | Sequence[str]) -> Json:
    return {"type": "string", "enum": [str(value) for value in values]}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TEXT = {"type": "string"}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC offset included"}
COUNTRY = {
    "type": "string",
    "description": "ISO 3166-1 alpha-2 country code",
    "examples": ["KH"],
}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- small references to other records


def user_ref(user: User | None) -> Json | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def organisation_ref(organisation: Organisation | None) -> Json | None:
    if organisation is None:
        return None
    return {
        "id": organisation.id,
        "name": organisation.name,
        "kind": organisation.kind,
        "country": organisation.country,
    }


def case_ref(case: Case | None) -> Json | None:
    return {"id": case.id, "reference": case.reference} if case is not None else None


def submission(record: Submission) -> Json:
    """A submission as the API shows it: never its description or reporter contact."""
    return {
        "id": record.id,
        "reference": record.reference,
        "received_at": iso(record.received_at),
        "source": record.source,
        "external_reference": record.external_reference,
    }


REFERENCE_SCHEMAS: dict[str, Json] = {
    "UserRef": closed_object({"id": ID, "name": TEXT}, description="A member of staff."),
    "OrganisationRef": closed_object(
        {"id": ID, "name": TEXT, "kind": enum_of(OrgKind), "country": nullable(COUNTRY)}
    ),
    "CaseRef": closed_object({"id": ID, "reference": TEXT}),
    "Submission": closed_object(
        {
            "id": ID,
            "reference": {**TEXT, "examples": ["CM-S-2026-000007"]},
            "received_at": TIME,
            "source": enum_of(cases.SOURCES),
            "external_reference": nullable(TEXT),
        },
        description="One report as it arrived; each of its URLs became a case.",
    ),
}


# --- cases


def case_summary(case: Case, *, now: datetime) -> Json:
    """A case as a list shows it (what ``cases.queue`` loads: no N+1)."""
    return {
        "id": case.id,
        "reference": case.reference,
        "url": case.url,
        "host": case.host,
        "status": case.status,
        "resolution": case.resolution,
        "classification": case.classification,
        "hosting_country": case.hosting_country,
        "assignee": user_ref(case.assignee),
        "received_at": iso(case.received_at),
        "due_at": iso(case.due_at),
        "overdue": case.is_overdue(now),
        "updated_at": iso(case.updated_at),
        "version": case.version,
    }


_CASE_SUMMARY_PROPERTIES: Json = {
    "id": ID,
    "reference": {**TEXT, "examples": ["CM-2026-000042"]},
    "url": {**TEXT, "description": "The reported URL, normalised"},
    "host": TEXT,
    "status": enum_of(Status),
    "resolution": nullable(enum_of(Resolution)),
    "classification": nullable(enum_of(Classification)),
    "hosting_country": nullable(COUNTRY),
    "assignee": nullable(ref("UserRef")),
    "received_at": TIME,
    "due_at": {
        **nullable(TIME),
        "description": "Deadline of the current stage; past it the case is overdue",
    },
    "overdue": {"type": "boolean"},
    "updated_at": TIME,
    "version": {
        "type": "integer",
        "minimum": 1,
        "description": "Changes with every change of the case; send it back as If-Match "
        "(or the body's `version`) to act only on the case as you saw it",
    },
}


def case_detail(case: Case, *, actor: Actor, now: datetime) -> Json:
    """Everything about a case (load it with ``cases.case_for_page``)."""
    return case_summary(case, now=now) | {
        "media_type": case.media_type,
        "site_type": case.site_type,
        "age_group": case.age_group,
        "hosting_ip": case.hosting_ip,
        "police_hold": case.police_hold,
        "duplicate_of": case_ref(case.duplicate_of),
        "provider": organisation_ref(case.provider),
        "partner": organisation_ref(case.partner),
        "police": organisation_ref(case.police),
        "submission": submission(case.submission),
        "assessment_due_at": iso(case.assessment_due_at),
        "assigned_at": iso(case.assigned_at),
        "assessed_at": iso(case.assessed_at),
        "first_action_at": iso(case.first_action_at),
        "notice_requested_at": iso(case.notice_requested_at),
        "notice_sent_at": iso(case.notice_sent_at),
        "forwarded_at": iso(case.forwarded_at),
        "referred_at": iso(case.referred_at),
        "hold_since": iso(case.hold_since),
        "removed_at": iso(case.removed_at),
        "closed_at": iso(case.closed_at),
        "next_reminder_at": iso(case.next_reminder_at),
        "reminder_count": case.reminder_count,
        "allowed_actions": cases.allowed_actions(case, actor),
        "events": [event(item) for item in case.events],
        "notices": notices(case),
    }


def event(record: CaseEvent) -> Json:
    return {
        "id": record.id,
        "action": record.action,
        "from": record.from_status,
        "to": record.to_status,
        "actor": user_ref(record.actor),
        "fields": record.fields,
        "at": iso(record.created_at),
    }


def notices(case: Case) -> list[Json]:
    """The letters about ``case``, as the notice engine serialises them."""
    from sqlalchemy.orm import object_session

    from casemgr.notices.services import notices_for_case

    return notices_for_case(object_session(case), case.id)


CASE_SCHEMAS: dict[str, Json] = {
    "CaseSummary": closed_object(_CASE_SUMMARY_PROPERTIES),
    "Case": closed_object(
        _CASE_SUMMARY_PROPERTIES
        | {
            "media_type": nullable(enum_of(MediaType)),
            "site_type": nullable(enum_of(SiteType)),
            "age_group": nullable(enum_of(AgeGroup)),
            "hosting_ip": nullable(TEXT),
            "police_hold": {"type": "boolean"},
            "duplicate_of": nullable(ref("CaseRef")),
            "provider": nullable(ref("OrganisationRef")),
            "partner": nullable(ref("OrganisationRef")),
            "police": nullable(ref("OrganisationRef")),
            "submission": ref("Submission"),
            "assessment_due_at": nullable(TIME),
            "assigned_at": nullable(TIME),
            "assessed_at": nullable(TIME),
            "first_action_at": nullable(TIME),
            "notice_requested_at": nullable(TIME),
            "notice_sent_at": nullable(TIME),
            "forwarded_at": nullable(TIME),
            "referred_at": nullable(TIME),
            "hold_since": nullable(TIME),
            "removed_at": nullable(TIME),
            "closed_at": nullable(TIME),
            "next_reminder_at": nullable(TIME),
            "reminder_count": {"type": "integer", "minimum": 0},
            "allowed_actions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What the caller may do with the case now: the paths "
                "/api/v1/cases/{case_id}/actions/{action}",
            },
            "events": {"type": "array", "items": ref("CaseEvent")},
            "notices": {"type": "array", "items": ref("Notice")},
        },
        description="A case: one reported URL and everything done about it.",
    ),
    "CaseEvent": closed_object(
        {
            "id": ID,
            "action": {**TEXT, "description": "`receive`, or one of the actions"},
            "from": nullable(enum_of(Status)),
            "to": enum_of(Status),
            "actor": {
                **nullable(ref("UserRef")),
                "description": "Who took the action; null for the system (a scheduled "
                "run or a report from the public)",
            },
            "fields": {"type": "object", "description": "The action's fields as recorded"},
            "at": TIME,
        }
    ),
    "CaseList": closed_object(
        {
            "items": {"type": "array", "items": ref("CaseSummary")},
            "total": {
                "type": "integer",
                "minimum": 0,
                "description": "How many cases the list holds: exact, unless "
                "`total_is_estimate` is true",
            },
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total_is_estimate": {
                "type": "boolean",
                "description": f"True when the list holds more than "
                f"{cases.EXACT_COUNT_LIMIT:,} cases and `total` is the database's "
                "estimate (never below that number): page on while a page comes back "
                "full",
            },
        },
        description="A page of cases, newest first.",
    ),
}


def case_list(page: cases.Page, *, now: datetime) -> Json:
    return {
        "items": [case_summary(case, now=now) for case in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "total_is_estimate": page.total_is_estimate,
    }


# --- reports


def report_result(result: cases.ReceiveResult) -> Json:
    record = result.submission
    return {
        "submission": submission(record),
        "cases": [
            {
                "id": case.id,
                "reference": case.reference,
                "url": case.url,
                "status": case.status,
                "duplicate_of": case_ref(case.duplicate_of),
            }
            for case in record.cases
        ],
    }


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
            "description": {**nullable(TEXT), "maxLength": cases.MAX_DESCRIPTION_LENGTH},
            "source": {
                **nullable(enum_of(cases.API_SOURCES)),
                "default": "partner",
                "description": "Where the report came from (`public` is the public form's only)",
            },
            "external_reference": {
                **nullable(TEXT),
                "maxLength": cases.MAX_EXTERNAL_REFERENCE_LENGTH,
                "description": "Your own reference. Sending the same one again returns the "
                "first submission (200) instead of creating new cases: retry safely.",
            },
            "reporter_contact": {
                **nullable(TEXT),
                "maxLength": cases.MAX_CONTACT_LENGTH,
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


REPORT_SCHEMAS: dict[str, Json] = {
    "ReportResult": closed_object(
        {
            "submission": ref("Submission"),
            "cases": {
                "type": "array",
                "items": closed_object(
                    {
                        "id": ID,
                        "reference": TEXT,
                        "url": TEXT,
                        "status": enum_of(Status),
                        "duplicate_of": {
                            **nullable(ref("CaseRef")),
                            "description": "The open case of the same URL; this case was "
                            "closed as its duplicate",
                        },
                    }
                ),
            },
        }
    ),
}


# --- organisations


def organisation(record: Organisation) -> Json:
    return {
        "id": record.id,
        "kind": record.kind,
        "name": record.name,
        "country": record.country,
        "email": record.email,
        "language": record.language,
        "address": record.address,
        "created_at": iso(record.created_at),
    }


def organisation_list(records: Iterable[Organisation]) -> Json:
    return {"items": [organisation(record) for record in records]}


ORGANISATION_REQUEST: Json = closed_object(
    {
        "kind": enum_of(OrgKind),
        "name": {**TEXT, "maxLength": 200},
        "country": nullable(COUNTRY),
        "email": nullable({**TEXT, "format": "email"}),
        "language": {
            **enum_of(LANGUAGES),
            "default": "en",
            "description": "Language of the notices",
        },
        "address": {**TEXT, "maxLength": 1000, "default": ""},
    },
    optional=("country", "email", "language", "address"),
)

ORGANISATION_SCHEMAS: dict[str, Json] = {
    "Organisation": closed_object(
        {
            "id": ID,
            "kind": enum_of(OrgKind),
            "name": TEXT,
            "country": nullable(COUNTRY),
            "email": nullable(TEXT),
            "language": TEXT,
            "address": TEXT,
            "created_at": TIME,
        },
        description="A partner hotline, a police unit or a hosting provider.",
    ),
    "OrganisationList": closed_object(
        {"items": {"type": "array", "items": ref("Organisation")}},
        description="Active organisations by name.",
    ),
}


# --- case actions: request bodies generated from the workflow's table

VERSION_FIELD: Json = {
    "type": "integer",
    "minimum": 0,
    "description": "Optional optimistic lock, as the If-Match header: act only if the case's "
    "`version` is still this one (else 409 stale_version)",
}

_FIELD_KINDS: dict[str, Json] = {
    "id": ID,
    "country": COUNTRY,
    "ip": {**TEXT, "description": "IPv4 or IPv6 address"},
    "bool": {"type": "boolean"},
    "datetime": {**TIME, "description": "ISO 8601; without an offset it is taken as UTC"},
    "text": {**TEXT, "maxLength": MAX_REASON_LENGTH},
}


def action_field_schema(spec: FieldSpec) -> Json:
    """The JSON Schema of one workflow field, from its kind, choices and reference."""
    schema = enum_of(spec.choices) if spec.kind == "choice" else dict(_FIELD_KINDS[spec.kind])
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
        return "Id of another case"
    return (
        f"Id of an active organisation of kind {target} (GET /api/v1/organizations?kind={target})"
    )


def action_request_schema(rule: ActionRule) -> Json:
    properties = {spec.name: action_field_schema(spec) for spec in rule.fields}
    required = [spec.name for spec in rule.fields if spec.required and spec.required_if is None]
    return {
        "type": "object",
        "title": rule.label,
        "properties": properties | {"version": VERSION_FIELD},
        "required": required,
        "additionalProperties": False,
    }


def action_description(rule: ActionRule) -> str:
    """What the table says about an action, in words, for the API document."""
    sources = ", ".join(sorted(rule.sources))
    lines = [rule.description] if rule.description else []
    lines.append(f"Possible while the case is: {sources}.")
    if rule.role is Role.SYSTEM:
        lines.append("Taken by the scheduled notice run only: people are refused with 403.")
    else:
        lines.append(f"Needs the {rule.role} role (or a higher one).")
    return " ".join(lines)


# --- errors

_ERROR_PROPERTIES: Json = {
    "error": {**TEXT, "description": "A stable code for programs"},
    "message": {**TEXT, "description": "For people"},
}

ERROR_SCHEMAS: dict[str, Json] = {
    "Error": {
        "type": "object",
        "properties": _ERROR_PROPERTIES,
        "required": ["error", "message"],
        "description": "Every error has this envelope; some add fields.",
    },
    "ValidationError": closed_object(
        _ERROR_PROPERTIES
        | {
            "error": {"const": "validation"},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "Messages by the name of the field, query parameter or header "
                "at fault; a bad URL is named by its index: `urls[3]: message`",
            },
        }
    ),
    "InvalidTransition": closed_object(
        _ERROR_PROPERTIES
        | {
            "error": {"const": "invalid_transition"},
            "allowed_actions": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "StaleVersion": closed_object(
        _ERROR_PROPERTIES
        | {
            "error": {"const": "stale_version"},
            "version": {**VERSION_FIELD, "description": "The case's current version"},
        },
        optional=("version",),
    ),
}


def all_component_schemas() -> dict[str, Json]:
    return REFERENCE_SCHEMAS | CASE_SCHEMAS | REPORT_SCHEMAS | ORGANISATION_SCHEMAS | ERROR_SCHEMAS

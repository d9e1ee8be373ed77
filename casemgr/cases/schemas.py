"""What the cases API answers, and the JSON Schema of each answer, side by side.

Every response body of ``casemgr/cases/api.py`` is built by a function here,
and next to it stands the schema that ``casemgr/api/openapi.py`` publishes for
it (:data:`SCHEMAS`). The tests validate every API response they receive
against the published schema (objects are closed), so a field added here
without its schema, or the other way round, fails the suite. Request bodies
are described beside the code reading them, in ``api_inputs``.

The reporter's contact details are never part of any API output.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import object_session

from casemgr.api.schemas import (
    COUNTRY,
    ID,
    TEXT,
    TIME,
    Json,
    closed_object,
    enum_of,
    iso,
    nullable,
    ref,
)
from casemgr.auth.models import User
from casemgr.cases import partner_access, queries, receiving
from casemgr.cases import services as cases
from casemgr.cases.fields import AgeGroup, Classification, MediaType, SiteType
from casemgr.cases.models import Case, CaseEvent, CaseNote, Submission
from casemgr.cases.states import Attention, RemovalSource, Resolution, Status
from casemgr.checks.api import REMOVAL_CHECKS_SCHEMA, checks_for_cases
from casemgr.directory.models import Organisation
from casemgr.domain import Actor, OrgKind
from casemgr.inbound.api import REPLY_SCHEMA, replies_for_cases
from casemgr.notices.queries import notices_for_case
from casemgr.paging import Page
from casemgr.partners.api import PARTNER_LINK_SCHEMA, partner_link_for_cases
from casemgr.responses.models import ANSWERS
from casemgr.responses.services import responses_for_cases

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
            "source": enum_of(receiving.SOURCES),
            "external_reference": nullable(TEXT),
        },
        description="One report as it arrived; each of its URLs became a case.",
    ),
}


# --- cases


def case_summary(case: Case, *, now: datetime) -> Json:
    """A case as a list shows it (what ``queries.queue`` loads: no N+1)."""
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


def case_detail(
    case: Case, *, actor: Actor, now: datetime, letters: list[Json] | None = None
) -> Json:
    """Everything about a case (load it with ``queries.case_for_page``); ``letters``
    are its notices when they were read already (``notices_for_cases``)."""
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
        "notices": notices(case) if letters is None else letters,
        "notes": [note(item) for item in case.notes],
        "removal_reported_at": iso(case.removal_reported_at),
        "removal_reported_by": case.removal_reported_by,
        "attention": case.attention,
        "provider_responses": responses_for_cases(object_session(case), [case.id])[case.id],
        "provider_replies": replies_for_cases(object_session(case), [case.id])[case.id],
        "removal_checks": checks_for_cases(object_session(case), [case.id])[case.id],
        "partner_link": partner_link_for_cases(object_session(case), [case.id])[case.id],
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


def note(record: CaseNote) -> Json:
    return {
        "id": record.id,
        "body": record.body,
        "author": user_ref(record.author),
        "created_at": iso(record.created_at),
    }


def notices(case: Case) -> list[Json]:
    """The letters about ``case``, as the letters' API serialises them."""
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
            "notes": {
                "type": "array",
                "items": ref("CaseNote"),
                "description": "Staff's notes on the case, oldest first (newest last)",
            },
            "removal_reported_at": {
                **nullable(TIME),
                "description": "When the material was removed according to the provider "
                "or the removal check, not verified yet: an analyst confirms the takedown "
                "(`confirm_takedown`) by `due_at`. Null when nothing is reported.",
            },
            "removal_reported_by": nullable(enum_of(RemovalSource)),
            "attention": {
                **nullable(enum_of(Attention)),
                "description": "Why the case waits to be routed again: the provider "
                "declined the notice. Cleared by the next action.",
            },
            "provider_responses": {
                "type": "array",
                "items": ref("ProviderResponse"),
                "description": "What the provider answered on the letters' response pages, "
                "oldest first",
            },
            "provider_replies": {
                "type": "array",
                "items": REPLY_SCHEMA,
                "description": "E-mail from the provider about this case (replies to our "
                "letters, auto-replies), oldest first: text only; attachments are never "
                "stored, only described",
            },
            "removal_checks": REMOVAL_CHECKS_SCHEMA,
            "partner_link": PARTNER_LINK_SCHEMA,
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
    "ProviderResponse": closed_object(
        {
            "id": ID,
            "notice": {**TEXT, "description": "The reference of the letter answered"},
            "organisation": {**TEXT, "description": "Whom the letter went to"},
            "answer": {"type": "string", "enum": list(ANSWERS)},
            "removed_at": {
                **nullable(TIME),
                "description": "`removed`: when, as the provider said (else when it answered)",
            },
            "hosted_by": {**nullable(TEXT), "description": "`not_hosted`: who does, if said"},
            "message": {
                **nullable(TEXT),
                "description": "`cannot_remove`: the reason; `need_information`: the question",
            },
            "created_at": TIME,
        },
        description="A provider's answer about one URL of a letter, as the provider gave it.",
    ),
    "CaseNote": closed_object(
        {
            "id": ID,
            "body": {**TEXT, "description": "Plain text; line breaks as `\\n`"},
            "author": {
                **nullable(ref("UserRef")),
                "description": "Who wrote it; null when that account no longer exists",
            },
            "created_at": TIME,
        },
        description="A note on a case: never changed or deleted (a correction is a new note).",
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
                f"{queries.EXACT_COUNT_LIMIT:,} cases and `total` is the database's "
                "estimate (never below that number): page on while a page comes back "
                "full",
            },
        },
        description="A page of cases, newest first.",
    ),
}


def case_list(page: Page, *, now: datetime) -> Json:
    return {
        "items": [case_summary(case, now=now) for case in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "total_is_estimate": page.total_is_estimate,
    }


# --- reports


def report_result(result: receiving.ReceiveResult, *, partner: bool = False) -> Json:
    """What POST /reports answers; to a ``partner`` a duplicate shows the status of
    the case it duplicates and never names that case (not the partner's to know)."""
    record = result.submission
    return {
        "submission": submission(record),
        "cases": [
            {
                "id": case.id,
                "reference": case.reference,
                "url": case.url,
                "status": partner_access.worked_case(case).status if partner else case.status,
                "duplicate_of": None if partner else case_ref(case.duplicate_of),
            }
            for case in record.cases
        ],
    }


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
                            "closed as its duplicate. Always null for a partner account, "
                            "which sees the status of the case worked instead",
                        },
                    }
                ),
            },
        }
    ),
}


# --- what a partner hotline's account sees (casemgr/cases/partner_access.py)

_PARTNER_STAGES = (
    "assessed_at",
    "first_action_at",
    "notice_sent_at",
    "forwarded_at",
    "referred_at",
    "removed_at",
    "closed_at",
)


def partner_case(case: Case) -> Json:
    """A case as its partner sees it: its own id, reference, URL and arrival, and the
    status, resolution and stage times of the case worked (``worked_case``)."""
    worked = partner_access.worked_case(case)
    return {
        "id": case.id,
        "reference": case.reference,
        "url": case.url,
        "status": worked.status,
        "resolution": worked.resolution,
        "received_at": iso(case.received_at),
        **{stage: iso(getattr(worked, stage)) for stage in _PARTNER_STAGES},
        "updated_at": iso(max(case.updated_at, worked.updated_at)),
    }


def partner_submission(record: Submission) -> Json:
    """A submission with its cases in id order (``partner_access.submission_for``)."""
    return {
        "reference": record.reference,
        "external_reference": record.external_reference,
        "received_at": iso(record.received_at),
        "cases": [partner_case(case) for case in record.cases],
    }


PARTNER_SCHEMAS: dict[str, Json] = {
    "PartnerCase": closed_object(
        {
            "id": ID,
            "reference": {**TEXT, "examples": ["CM-2026-000042"]},
            "url": {**TEXT, "description": "The reported URL, normalised"},
            "status": enum_of(Status),
            "resolution": nullable(enum_of(Resolution)),
            "received_at": TIME,
            **{stage: nullable(TIME) for stage in _PARTNER_STAGES},
            "updated_at": TIME,
        },
        description="A case as the partner hotline that reported it sees it: nothing of "
        "the reporter, the staff, the classification, the organisations, other cases, "
        "the history or notes. A case closed as the duplicate of another shows the "
        "status, resolution and stage times of the case worked; its id, reference, URL "
        "and `received_at` stay its own.",
    ),
    "PartnerSubmission": closed_object(
        {
            "reference": {**TEXT, "examples": ["CM-S-2026-000007"]},
            "external_reference": {**nullable(TEXT), "description": "The sender's reference"},
            "received_at": TIME,
            "cases": {
                "type": "array",
                "items": ref("PartnerCase"),
                "description": "One case per URL of the report, in id order",
            },
        },
        description="A submission and the status of its cases.",
    ),
}


SCHEMAS: dict[str, Json] = REFERENCE_SCHEMAS | CASE_SCHEMAS | REPORT_SCHEMAS | PARTNER_SCHEMAS

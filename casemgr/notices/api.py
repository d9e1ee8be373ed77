"""API v1: ``GET /api/v1/notices`` and ``GET /api/v1/notices/<id>/pdf``.

Registered on ``casemgr.api.bp`` with ``token_required``, with the roles of
the web's twins: the list of letters is the supervisors' (``/notices/``), but
any member of staff sees one case's letters on its page, so the list filtered
by ``case`` is any staff token's; a letter's PDF is any staff token's, as
``/notices/<id>/pdf`` is. :data:`OPENAPI_PATHS` and :data:`OPENAPI_SCHEMAS`
are this part of the API document, which ``casemgr/api/openapi.py`` assembles
with the others.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import jsonify, request
from werkzeug.datastructures import MultiDict

from casemgr import context
from casemgr.api import bp
from casemgr.api.auth import current_api_user, token_required
from casemgr.api.errors import ApiError
from casemgr.api.operations import or_empty
from casemgr.api.schemas import BLANK, ID, ISO_TEXT, TIME, enum_of
from casemgr.clock import OUT_OF_RANGE, in_range, parse_iso
from casemgr.database import MAX_ID, get_or_raise
from casemgr.domain import Role
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.http import stored_pdf_response
from casemgr.notices import queries
from casemgr.notices.models import KINDS, Notice

PARAMETERS = ("case", "kind", "recipient", "from", "to", "page", "per_page")
DEFAULT_PER_PAGE = 50
MAX_PAGE = 10**6
_DIGITS = re.compile(r"[0-9]{1,10}")
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


CASE_LETTERS_ONLY = (
    "listing letters needs the supervisor role; any member of staff may list "
    "one case's letters with case=<id>"
)


@bp.get("/notices")
@token_required()
def list_notices():
    """Letters, newest first, filtered and paged like ``GET /api/v1/cases``.
    Analysts only with ``case`` (403 without it: the letters page is the
    supervisors', a case's letters are on its page for all staff)."""
    if not current_api_user().has_role(Role.SUPERVISOR) and not request.args.get("case"):
        raise ApiError(403, "forbidden", CASE_LETTERS_ONLY)
    filters, page, per_page = notice_list_query(
        request.args, max_per_page=context.setting("API_MAX_PER_PAGE")
    )
    result = queries.list_notices(db.session, filters, page=page, per_page=per_page)
    return jsonify(
        {
            "items": [queries.notice_as_dict(n) for n in result.items],
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
        }
    )


@bp.get("/notices/<int:notice_id>/pdf")
@token_required()
def notice_pdf(notice_id: int):
    """The stored PDF, byte for byte as it was sent."""
    notice = get_or_raise(db.session, Notice, notice_id, what="letter")
    return stored_pdf_response(
        notice.pdf, filename=notice.filename, sha256=notice.sha256, created_at=notice.created_at
    )


def notice_list_query(
    args: MultiDict[str, str], *, max_per_page: int
) -> tuple[queries.NoticeFilter, int, int]:
    """The filters and page of ``GET /notices``; raises ValidationFailed (422)
    naming each bad, unknown or repeated parameter."""
    errors: dict[str, list[str]] = {}
    for name in args:
        if name not in PARAMETERS:
            errors[name] = ["is not a parameter of this request"]
        elif len(args.getlist(name)) > 1:
            errors[name] = ["must be given once"]
    case_id = _int(args, "case", 1, MAX_ID, errors)
    recipient_id = _int(args, "recipient", 1, MAX_ID, errors)
    kind = args.get("kind") or None
    if kind is not None and kind not in KINDS:
        errors["kind"] = [f"must be one of: {', '.join(KINDS)}"]
    start = _moment(args, "from", errors, end_of_day=False)
    end = _moment(args, "to", errors, end_of_day=True)
    if start and end and end <= start and "to" not in errors:
        errors["to"] = ["must be after 'from'"]
    page = _int(args, "page", 1, MAX_PAGE, errors) or 1
    per_page = _int(args, "per_page", 1, max_per_page, errors) or min(
        DEFAULT_PER_PAGE, max_per_page
    )
    if errors:
        raise ValidationFailed(errors)
    filters = queries.NoticeFilter(
        case_id=case_id, kind=kind, recipient_id=recipient_id, start=start, end=end
    )
    return filters, page, per_page


def _int(
    args: MultiDict[str, str], name: str, low: int, high: int, errors: dict[str, list[str]]
) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "" or name in errors:
        return None
    if _DIGITS.fullmatch(raw) and low <= int(raw) <= high:
        return int(raw)
    errors[name] = [f"must be a whole number from {low} to {high}"]
    return None


def _moment(
    args: MultiDict[str, str], name: str, errors: dict[str, list[str]], *, end_of_day: bool
) -> datetime | None:
    """A date (the whole day, UTC) or an ISO 8601 date-time."""
    raw = (args.get(name) or "").strip()
    if not raw or name in errors:
        return None
    try:
        if _DATE_ONLY.fullmatch(raw):
            day = datetime.strptime(raw, "%Y-%m-%d").date()
            if not in_range(day):
                errors[name] = [OUT_OF_RANGE]
                return None
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, time(), tzinfo=UTC)
        return parse_iso(raw)
    except (ValueError, OverflowError):
        errors[name] = ["must be a date (2026-11-28) or an ISO 8601 date-time"]
        return None


# ------------------------------------------------------------------- the contract

_ID = {"type": "integer", "minimum": 1}
# A date, a date-time, or empty (not given); blank space around it is ignored.
_MOMENT = {"anyOf": [{"type": "string", "format": "date"}, TIME, ISO_TEXT, BLANK]}
# The document's per_page limit: the setting's default (openapi.py puts the app's own).
API_MAX_PER_PAGE = 100
_TEXT = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_NOTICE_PROPERTIES: dict[str, Any] = {
    "id": _ID,
    "reference": {**_TEXT, "example": "CM-N-2026-000001"},
    "kind": {"type": "string", "enum": list(KINDS)},
    "recipient": _ref("NoticeRecipient"),
    "language": _TEXT,
    "manual_delivery": {
        "type": "boolean",
        "description": "The recipient had no e-mail address: someone must deliver it by hand",
    },
    "previous_reference": {
        **_nullable(_TEXT),
        "description": "The notice(s) a reminder or escalation follows up",
    },
    "deadline": _nullable(_TIME),
    "case_count": {"type": "integer", "minimum": 1},
    "sha256": {
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "SHA-256 of the PDF as stored and served",
    },
    "size": {"type": "integer", "minimum": 1},
    "created_at": _TIME,
    "sent_at": {**_nullable(_TIME), "description": "When it was delivered; null until then"},
    "exported_at": _nullable(_TIME),
    "pdf_url": _TEXT,
}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "NoticeRecipient": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "kind", "name", "email", "address"],
        "description": "The recipient as it was when the letter was made",
        "properties": {
            "id": {**_nullable(_ID), "description": "The organisation; null for supervisors"},
            "kind": {
                "type": "string",
                "enum": ["hosting_provider", "hotline", "police", "supervisors"],
            },
            "name": _TEXT,
            "email": _nullable(_TEXT),
            "address": _TEXT,
        },
    },
    "Notice": {
        "type": "object",
        "additionalProperties": False,
        "required": list(_NOTICE_PROPERTIES),
        "description": "A letter about a case (as listed in the case)",
        "properties": _NOTICE_PROPERTIES,
    },
    "NoticeWithCases": {
        "type": "object",
        "additionalProperties": False,
        "required": [*_NOTICE_PROPERTIES, "cases"],
        "description": "A letter and the cases it covers",
        "properties": {
            **_NOTICE_PROPERTIES,
            "cases": {"type": "array", "items": _ref("CaseRef")},
        },
    },
    "NoticeList": {
        "type": "object",
        "additionalProperties": False,
        "required": ["items", "total", "page", "per_page"],
        "properties": {
            "items": {"type": "array", "items": _ref("NoticeWithCases")},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
        },
    },
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_ERRORS = {
    "401": {"description": "No valid API token"},
    "403": {"description": "Without case: the token's account is not a supervisor or an admin"},
    "404": {"description": "No such letter"},
    "422": {"description": "A bad, unknown or repeated query parameter"},
}


def openapi_paths(max_per_page: int = API_MAX_PER_PAGE) -> dict[str, Any]:
    """This part of the API document; ``max_per_page`` is the app's API_MAX_PER_PAGE."""
    paths = copy.deepcopy(OPENAPI_PATHS)
    per_page = paths["/notices"]["get"]["parameters"][-1]
    per_page["schema"]["anyOf"][0]["maximum"] = max_per_page
    return paths


OPENAPI_PATHS: dict[str, Any] = {
    "/notices": {
        "get": {
            "operationId": "listNotices",
            "summary": "Letters (notices, referrals, reminders, escalations), newest first",
            "description": "Supervisors and admins list any letters, as on the Letters page. "
            "An analyst's token must give `case`: a case's letters are on its page for all "
            "staff; without it the answer is 403 (docs/api.md, What changed).",
            "security": [{"bearer": []}],
            # Each parameter left empty is not given (v1 has always read them so).
            "parameters": [
                _query(
                    "case",
                    or_empty(ID),
                    "Only letters covering this case (id); required for an analyst's token",
                ),
                _query("kind", or_empty(enum_of(KINDS)), "Only this kind"),
                _query("recipient", or_empty(ID), "Only letters to this organisation (id)"),
                _query("from", _MOMENT, "Made at or after: a date (UTC) or a date-time"),
                _query(
                    "to",
                    _MOMENT,
                    "Made before: a date-time, or a date (that day included); "
                    "after `from` (else 422)",
                ),
                _query(
                    "page",
                    or_empty({"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
                    "Page",
                ),
                _query(
                    "per_page",
                    or_empty(
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": API_MAX_PER_PAGE,
                            "default": DEFAULT_PER_PAGE,
                        }
                    ),
                    "Letters per page (at most API_MAX_PER_PAGE)",
                ),
            ],
            "responses": {
                "200": {
                    "description": "A page of letters",
                    "content": {"application/json": {"schema": _ref("NoticeList")}},
                },
                "401": _ERRORS["401"],
                "403": _ERRORS["403"],
                "422": _ERRORS["422"],
            },
        }
    },
    "/notices/{notice_id}/pdf": {
        "get": {
            "operationId": "getNoticePdf",
            "summary": "The letter's PDF exactly as stored (its SHA-256 is the letter's sha256)",
            "security": [{"bearer": []}],
            "parameters": [{"name": "notice_id", "in": "path", "required": True, "schema": _ID}],
            "responses": {
                "200": {
                    "description": "The PDF, as an attachment",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "401": _ERRORS["401"],
                "404": _ERRORS["404"],
            },
        }
    },
}

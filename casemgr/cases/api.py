"""API v1 of cases: POST /reports, GET /submissions/<reference>, GET /cases,
GET /cases/<id>, POST /cases/<id>/actions/<action>, POST /cases/<id>/notes.

A partner hotline's account may call the first two and GET /cases/<id>, and
sees there only what it sent, reduced (``partner_access``, the ``Partner*``
schemas); every other route refuses it (``token_required``).

Thin routes on the API blueprint: read the request (``api_inputs``), call a
service, commit, answer with what ``schemas`` builds. Domain errors are
answered by ``casemgr/http.py``. :func:`openapi_paths` is this part of the
API document, beside the routes it describes; ``casemgr/api/openapi.py``
assembles it with the other features'.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import request
from sqlalchemy.exc import IntegrityError

from casemgr import context
from casemgr.api import bp, operations
from casemgr.api.auth import current_api_user, token_required
from casemgr.api.errors import ApiError
from casemgr.api.inputs import json_object, query_parameters
from casemgr.api.schemas import ID, Json, enum_of, ref
from casemgr.auth.models import User
from casemgr.cases import api_inputs as inputs
from casemgr.cases import notes, partner_access, queries, receiving, schemas
from casemgr.cases import services as cases
from casemgr.cases.guards import WHO_MAY
from casemgr.cases.states import Action, Status
from casemgr.cases.workflow import RULES, ActionRule
from casemgr.database import MAX_ID
from casemgr.domain import Role
from casemgr.errors import ValidationFailed
from casemgr.extensions import db


@bp.post("/reports")
@token_required(partner=True)
def submit_report():
    query_parameters(request.args, ())
    user = current_api_user()
    report = inputs.report_input(
        json_object(),
        max_urls=context.setting("MAX_URLS_PER_SUBMISSION"),
        languages=context.setting("LANGUAGES"),
    )
    if user.is_partner and report.source != "partner":
        raise ValidationFailed({"source": ["a partner account's reports are always 'partner'"]})
    result = _receive(report, user)
    # Built before the commit expires what it reads.
    answer = schemas.report_result(result, partner=user.is_partner)
    db.session.commit()
    return answer, 201 if result.created else 200


@bp.get("/submissions/<reference>")
@token_required(partner=True)
def get_submission(reference: str):
    """A submission and the status of its cases: staff any, a partner its own (404
    for any other, as for one that does not exist)."""
    query_parameters(request.args, ())
    found = partner_access.submission_for(db.session, reference, current_api_user())
    return schemas.partner_submission(found)


def _receive(report: receiving.ReportInput, user: User) -> receiving.ReceiveResult:
    def receive() -> receiving.ReceiveResult:
        return receiving.receive_report(
            db.session,
            report,
            now=context.now(),
            timings=context.timings(),
            cipher=context.cipher(),
            reference_prefix=context.reference_prefix(),
            max_urls=context.setting("MAX_URLS_PER_SUBMISSION"),
            languages=context.setting("LANGUAGES"),
            submitted_by=user,
        )

    try:
        return receive()
    except IntegrityError:
        if not report.external_reference:
            raise
        # Two sendings of one external_reference at the same moment: the other
        # one won the unique constraint. Asked again, the service finds it.
        db.session.rollback()
        return receive()


@bp.get("/cases")
@token_required()
def list_cases():
    user = current_api_user()
    wanted = inputs.case_list_query(
        request.args, user_id=user.id, max_per_page=context.setting("API_MAX_PER_PAGE")
    )
    page = queries.queue(
        db.session,
        wanted.filters,
        user_id=user.id,
        now=context.now(),
        page=wanted.page,
        per_page=wanted.per_page,
    )
    return schemas.case_list(page, now=context.now())


@bp.get("/cases/<int:case_id>")
@token_required(partner=True)
def get_case(case_id: int):
    """The whole case for staff; for a partner the reduced view of a case of its own."""
    query_parameters(request.args, ())
    user = current_api_user()
    if user.is_partner:
        return schemas.partner_case(partner_access.case_for_partner(db.session, case_id, user))
    case = queries.case_for_page(db.session, case_id)
    return schemas.case_detail(case, actor=current_api_user().actor, now=context.now())


@bp.post("/cases/<int:case_id>/actions/<action>")
@token_required()
def act(case_id: int, action: str):
    """404 for an unknown case or action; the workflow answers the rest (403/409/422)."""
    query_parameters(request.args, ())
    actor = current_api_user().actor
    case = queries.case_for_page(db.session, case_id)
    if action not in RULES:
        allowed = cases.allowed_actions(case, actor)
        raise ApiError(
            404,
            "unknown_action",
            f"'{action[:100]}' is not an action; allowed now: {', '.join(allowed) or 'none'}",
            allowed_actions=allowed,
        )
    wanted = inputs.action_request(
        json_object(), RULES[Action(action)], if_match=request.headers.get("If-Match")
    )
    cases.apply_action(
        db.session,
        case,
        action,
        wanted.fields,
        actor=actor,
        now=context.now(),
        timings=context.timings(),
        expected_version=wanted.expected_version,
    )
    db.session.commit()
    case = queries.case_for_page(db.session, case_id)
    return schemas.case_detail(case, actor=actor, now=context.now())


@bp.post("/cases/<int:case_id>/notes")
@token_required()
def add_note(case_id: int):
    """404 for an unknown case; 422 naming ``body`` for a note that is not acceptable.
    Whoever may act on cases may add a note, in any state of the case."""
    query_parameters(request.args, ())
    case = queries.case_for_page(db.session, case_id)
    text = inputs.note_body(json_object())
    note = notes.add_note(db.session, case, text, actor=current_api_user().actor, now=context.now())
    answer = schemas.note(note)  # before the commit expires what it reads
    db.session.commit()
    return answer, 201


# --- this part of the API document

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
    "schema": {"type": "string", "pattern": '^\\s*(\\*|[0-9]{1,10}|"[0-9]{1,10}")\\s*$'},
    "description": "Optional optimistic lock: the case's `version` as you last saw it (plain "
    'or quoted: `3`, `"3"`). If the case changed since, nothing is done and the answer '
    "is 409 stale_version. Not a number: 422. Leave it out for no check.",
}


def openapi_paths(*, max_urls: int, max_per_page: int, languages: Sequence[str]) -> Json:
    """The operations above, by path relative to the API's root (``/api/v1``);
    the limits and languages are the app's settings."""
    paths: Json = {
        "/reports": {
            "post": {
                "operationId": "submit_report",
                "tags": ["reports"],
                "summary": "Hand over a report: one case per URL",
                "description": "Each distinct URL becomes a case. A URL that has an open "
                "case already becomes a case closed as its duplicate (`duplicate_of`). "
                "If any URL is not acceptable nothing is saved (422). A repeated "
                "`external_reference` from the same user returns the first submission "
                "with 200 and creates nothing. A partner account's reports are always of "
                "`source` partner (another source: 422); its answer never names another "
                "case (`duplicate_of` is null) and gives a duplicate the status of the "
                "case worked.",
                "requestBody": operations.body(inputs.report_request_schema(max_urls, languages)),
                "responses": {
                    "201": operations.ok(
                        "Received: the submission and its new cases", "ReportResult"
                    ),
                    "200": operations.ok(
                        "Already received with this external_reference: the first submission",
                        "ReportResult",
                    ),
                    **operations.errors(*operations.BODY_ERRORS),
                },
            }
        },
        "/cases": {
            "get": {
                "operationId": "list_cases",
                "tags": ["cases"],
                "summary": "Cases, newest first",
                "parameters": [
                    operations.query(
                        "status", operations.or_empty(enum_of(Status)), "Only cases in this state"
                    ),
                    operations.query(
                        "assignee",
                        {
                            "anyOf": [
                                {"type": "string", "enum": ["me", ""]},
                                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                            ]
                        },
                        "Only cases assigned to this user id, or to the caller (`me`)",
                    ),
                    operations.query(
                        "overdue",
                        {"type": "string", "enum": ["true", ""]},
                        "Only open cases past their current deadline; with `view`, the "
                        "overdue cases of that view",
                    ),
                    operations.query(
                        "view",
                        {"type": "string", "enum": [*queries.QUEUE_VIEWS, ""]},
                        "A view of the queue (default `all`): `open`, `mine` (assigned to "
                        "the caller), `unassigned` and `overdue` hold open cases only; "
                        "`removal_reported` the open cases whose removal the provider or "
                        "the removal check reported, waiting for an analyst to verify",
                    ),
                    operations.query(
                        "q",
                        {"type": "string", "maxLength": queries.MAX_QUERY_LENGTH},
                        "A case or submission reference, a full URL, or a host name",
                    ),
                    *operations.paging_parameters(max_per_page, items="Cases"),
                ],
                "responses": {
                    "200": operations.ok("A page of cases", "CaseList"),
                    **operations.errors(401, 422),
                },
            }
        },
        "/cases/{case_id}": {
            "get": {
                "operationId": "get_case",
                "tags": ["cases"],
                "summary": "A case with its history and the actions the caller may take",
                "description": "Staff get the whole case (`Case`). A partner account gets "
                "the reduced view (`PartnerCase`) of a case of its own submissions, and "
                "404 for any other case, as for one that does not exist.",
                "parameters": [_CASE_ID],
                "responses": {
                    "200": {
                        "description": "The case (reduced for a partner account)",
                        "content": {
                            "application/json": {
                                "schema": {"oneOf": [ref("Case"), ref("PartnerCase")]}
                            }
                        },
                    },
                    **operations.errors(401, 403, 404, 422),
                },
            }
        },
        "/submissions/{reference}": {
            "get": {
                "operationId": "get_submission",
                "tags": ["reports"],
                "summary": "A submission and the status of its cases",
                "description": "What became of a report: its cases, reduced as a partner "
                "sees them (`PartnerCase`), in id order. Staff may read any submission; "
                "a partner account its own only, and gets 404 for any other, as for one "
                "that does not exist.",
                "parameters": [
                    {
                        "name": "reference",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "The submission's reference, as POST /reports "
                        "answered it (`submission.reference`)",
                    }
                ],
                "responses": {
                    "200": operations.ok("The submission", "PartnerSubmission"),
                    **operations.errors(401, 403, 404, 422),
                },
            }
        },
    }
    for action, rule in RULES.items():
        paths[f"/cases/{{case_id}}/actions/{action}"] = {"post": _action_operation(action, rule)}
    paths["/cases/{case_id}/notes"] = {"post": _NOTE_OPERATION}
    _link_operations(paths)
    return paths


def _case_links(case_id: str) -> Json:
    """Links from an answer that names a case (``case_id``: where in the answer its id
    is) to reading it, acting on it and adding a note."""
    return {
        "get_case": {"operationId": "get_case", "parameters": {"case_id": case_id}},
        "add_case_note": {"operationId": "add_case_note", "parameters": {"case_id": case_id}},
    } | {
        f"case_action_{action}": {
            "operationId": f"case_action_{action}",
            "parameters": {"case_id": case_id},
        }
        for action in RULES
    }


def _link_operations(paths: Json) -> None:
    """OpenAPI links: a report's answer leads to its submission and its first case; a
    list to its first case; an action's answer (the case as it is now) to the case's
    next actions. (Not its ``version`` as If-Match: a link gives the number, and a
    header is text.)"""
    report = paths["/reports"]["post"]["responses"]
    for status in ("200", "201"):
        report[status] = report[status] | {
            "links": _case_links("$response.body#/cases/0/id")
            | {
                "get_submission": {
                    "operationId": "get_submission",
                    "parameters": {"reference": "$response.body#/submission/reference"},
                }
            }
        }
    listed = paths["/cases"]["get"]["responses"]
    listed["200"] = listed["200"] | {"links": _case_links("$response.body#/items/0/id")}
    for action in RULES:
        answers = paths[f"/cases/{{case_id}}/actions/{action}"]["post"]["responses"]
        answers["200"] = answers["200"] | {"links": _case_links("$response.body#/id")}


_NOTE_OPERATION: Json = {
    "operationId": "add_case_note",
    "tags": ["cases"],
    "summary": "Add a note to a case",
    "description": "A note written down on the case (a phone call, a police reference), "
    "shown in its history and returned in the case's `notes`. Notes are never changed or "
    "deleted: to correct one, add another that says so. Any member of staff may add one, "
    "whatever the case's state; it does not change the case or its `version`. Never "
    "describe the material in a note.",
    "parameters": [_CASE_ID],
    "requestBody": operations.body(inputs.note_request_schema()),
    "responses": {
        "201": operations.ok("Added: the note", "CaseNote"),
        **operations.errors(*operations.BODY_ERRORS, 403, 404),
    },
}


def _action_operation(action: str, rule: ActionRule) -> Json:
    return {
        "operationId": f"case_action_{action}",
        "tags": ["cases"],
        "summary": rule.label or action,
        "description": action_description(rule),
        "parameters": [_CASE_ID, _IF_MATCH],
        "requestBody": operations.body(inputs.action_request_schema(rule), required=False),
        "responses": {
            "200": operations.ok("Done: the case as it is now", "Case"),
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
            **operations.errors(*operations.BODY_ERRORS, 403, 404),
        },
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
    if rule.actor_guard is not None:
        lines.append(WHO_MAY[rule.actor_guard])
    return " ".join(lines)

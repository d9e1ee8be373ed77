"""API v1 of bulk actions: POST /cases/actions/<action> on up to 500 cases at once.

A thin route over :func:`casemgr.cases.bulk.apply_to_many`: read the body,
call the service, commit once, answer each case as the single-case action
would (the case, or the error envelope it would have got). The body's
schema, the answer's schema and :func:`openapi_paths` (this part of the API
document, assembled by ``casemgr/api/openapi.py``) stand beside the route.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import request

from casemgr import context
from casemgr.api import bp, operations
from casemgr.api.auth import current_api_user, token_required
from casemgr.api.errors import ApiError
from casemgr.api.inputs import json_object, query_parameters, unknown_fields
from casemgr.api.schemas import ID, VERSION, Json, closed_object, ref
from casemgr.cases import bulk, queries, schemas
from casemgr.cases.api import action_description
from casemgr.cases.api_inputs import action_fields, note_request_schema, with_conditions
from casemgr.cases.states import Action
from casemgr.cases.workflow import RULES
from casemgr.domain import Actor
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.http import error_envelope
from casemgr.notices.queries import notices_for_cases

_DIGITS = re.compile(r"[0-9]{1,10}")


@bp.post("/cases/actions/<action>")
@token_required()
def act_on_many(action: str):
    """404 for an unknown action, 422 for a bad request as a whole; else 200 with
    one result per case, each the single-case answer."""
    query_parameters(request.args, ())
    if action not in bulk.BULK_ACTIONS:
        raise ApiError(
            404,
            "unknown_action",
            f"'{action[:100]}' is not a bulk action; they are: {', '.join(bulk.BULK_ACTIONS)}",
            allowed_actions=list(bulk.BULK_ACTIONS),
        )
    wanted = bulk_request(json_object(), action)
    actor = current_api_user().actor
    outcomes = bulk.apply_to_many(
        db.session,
        action,
        wanted.case_ids,
        wanted.fields,
        actor=actor,
        now=context.now(),
        timings=context.timings(),
        versions=wanted.versions,
    )
    db.session.commit()
    return bulk_result(outcomes, actor=actor, now=context.now())


# --- the request


@dataclass(frozen=True)
class BulkRequest:
    case_ids: Any
    fields: Json
    versions: Any


def bulk_request(body: Mapping[str, Any], action: str) -> BulkRequest:
    """The ids, fields and versions of the body. Only unknown names are refused
    here; the service judges the rest (naming ``case_ids``, ``versions`` or the
    field), before any case is touched."""
    names = bulk.field_names(action)
    errors = unknown_fields(body, names | {"case_ids", "versions"})
    if errors:
        raise ValidationFailed(errors)
    versions = body.get("versions")
    if isinstance(versions, dict):  # JSON keys are text: "12" names case 12
        versions = {int(k) if _DIGITS.fullmatch(k) else k: v for k, v in versions.items()}
    fields = {name: value for name, value in body.items() if name in names}
    return BulkRequest(body.get("case_ids"), fields, versions)


def _field_schemas(action: str) -> tuple[Json, list[str], list[Json]]:
    """The JSON Schema of each field ``action`` takes, those required, and the
    conditional requirements."""
    if action == bulk.ADD_NOTE:
        return note_request_schema()["properties"], [bulk.NOTE_BODY], []
    return action_fields(bulk.field_specs(action))


def bulk_request_schema(action: str) -> Json:
    fields, required, conditions = _field_schemas(action)
    properties: Json = {
        "case_ids": {
            "type": "array",
            "items": ID,
            "minItems": 1,
            "maxItems": bulk.MAX_BULK_CASES,
            "uniqueItems": True,
            "description": "The cases to act on: distinct case ids (not references), at most "
            f"{bulk.MAX_BULK_CASES}. A repeated id is refused (422), not merged.",
        },
        **fields,
        "versions": {
            "type": ["object", "null"],
            "propertyNames": {"pattern": "^[0-9]{1,10}$"},
            "additionalProperties": VERSION,
            "description": "Optional optimistic lock per case: case id (as text) to the "
            "`version` you saw. A case that has changed since is not acted on; its result is "
            "`stale_version`. Every id must be one of `case_ids`.",
        },
    }
    return with_conditions(
        {
            "type": "object",
            "title": f"{_label(action)}: many cases",
            "properties": properties,
            "required": ["case_ids", *required],
            "additionalProperties": False,
        },
        conditions,
    )


# --- the answer


def bulk_result(outcomes: Sequence[bulk.CaseOutcome], *, actor: Actor, now: datetime) -> Json:
    """One result per case, in the order asked; the cases acted on as GET /cases/<id>
    shows them (loaded together: a few queries for any number)."""
    done = queries.cases_for_page(db.session, [o.case_id for o in outcomes if o.ok])
    letters = notices_for_cases(db.session, list(done))
    results: list[Json] = []
    for outcome in outcomes:
        if outcome.error is None:
            case = schemas.case_detail(
                done[outcome.case_id], actor=actor, now=now, letters=letters[outcome.case_id]
            )
            results.append({"id": outcome.case_id, "ok": True, "case": case})
        else:
            _, envelope = error_envelope(outcome.error)
            results.append({"id": outcome.case_id, "ok": False, "error": envelope})
    return {"results": results}


OPENAPI_SCHEMAS: dict[str, Json] = {
    "BulkResult": closed_object(
        {
            "results": {
                "type": "array",
                "items": {"oneOf": [ref("BulkCaseDone"), ref("BulkCaseRefused")]},
                "description": "One per id of `case_ids`, in their order",
            }
        },
        description="What a bulk action did to each case.",
    ),
    "BulkCaseDone": closed_object(
        {"id": ID, "ok": {"const": True}, "case": ref("Case")},
        description="Done: the case as it is now",
    ),
    "BulkCaseRefused": closed_object(
        {
            "id": ID,
            "ok": {"const": False},
            "error": {
                "anyOf": [
                    ref("InvalidTransition"),
                    ref("StaleVersion"),
                    ref("ValidationError"),
                    ref("Error"),
                ],
                "description": "What the single-case action would have answered: "
                "`not_found` (no case has the id), `forbidden`, `invalid_transition` "
                "(with `allowed_actions`), `stale_version` or `validation`",
            },
        },
        description="Not done: nothing of the action was applied to this case",
    ),
}


# --- this part of the API document


def _label(action: str) -> str:
    if action == bulk.TAKE:
        return "Take (assign to yourself)"
    if action == bulk.ADD_NOTE:
        return "Add a note"
    return RULES[Action(action)].label or action


_ONE_BY_ONE = (
    "A case it cannot be done to is reported in its result with the single-case error, and "
    "nothing of it is applied; the others still go through. The fields are the same for "
    "every case."
)


def _description(action: str) -> str:
    workflow = bulk.workflow_action(action)
    if workflow is None:
        return (
            f"Adds the same note to each case of `case_ids` (at most {bulk.MAX_BULK_CASES}), "
            "one by one, as POST /cases/{case_id}/notes would: in any state of the case, "
            f"audited, without changing its `version`. {_ONE_BY_ONE}"
        )
    rule_text = action_description(RULES[Action(workflow)])
    if action == bulk.TAKE:
        rule_text = f"Assigns each case to the caller: `assign` without `assignee_id`. {rule_text}"
    return (
        f"Takes `{workflow}` on each case of `case_ids` (at most {bulk.MAX_BULK_CASES}), one "
        f"by one, as POST /cases/{{case_id}}/actions/{workflow} would: the same rules, "
        f"history and audit. {_ONE_BY_ONE} {rule_text}"
    )


def openapi_paths() -> Json:
    """The operations above, by path relative to the API's root (``/api/v1``)."""
    return {
        f"/cases/actions/{action}": {
            "post": {
                "operationId": f"bulk_{action}",
                "tags": ["cases"],
                "summary": f"{_label(action)}: many cases at once",
                "description": _description(action),
                "requestBody": operations.body(bulk_request_schema(action)),
                "responses": {
                    "200": operations.ok("One result per case", "BulkResult"),
                    **operations.errors(*operations.BODY_ERRORS),
                },
            }
        }
        for action in bulk.BULK_ACTIONS
    }

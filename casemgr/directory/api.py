"""API v1 of the directory: GET and POST /organizations.

Thin routes on the API blueprint: read the request, call a directory service,
commit, answer with what ``schemas`` builds. :data:`OPENAPI_PATHS` is this part
of the API document, beside the routes it describes; ``casemgr/api/openapi.py``
assembles it with the other features'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from casemgr import context
from casemgr.api import bp, operations
from casemgr.api.auth import current_api_user, token_required
from casemgr.api.inputs import (
    given,
    json_object,
    query_parameters,
    shape_errors,
    unknown_or_repeated,
)
from casemgr.api.schemas import Json, enum_of
from casemgr.directory import inputs as directory
from casemgr.directory import schemas
from casemgr.directory.operations import create_organisation
from casemgr.directory.queries import list_organisations
from casemgr.domain import OrgKind, Role
from casemgr.errors import ValidationFailed
from casemgr.extensions import db


@bp.get("/organizations")
@token_required()
def list_organizations():
    kind = organisation_kind(request.args)
    return schemas.organisation_list(list_organisations(db.session, kind))


@bp.post("/organizations")
@token_required(Role.SUPERVISOR)
def create_organization():
    query_parameters(request.args, ())
    organisation = create_organisation(
        db.session,
        organisation_input(json_object()),
        now=context.now(),
        actor=current_api_user().actor,
    )
    db.session.commit()
    return schemas.organisation(organisation), 201


def organisation_input(body: Mapping[str, Any]) -> directory.OrganisationInput:
    """An organisation from the body; raises ValidationFailed naming each bad field."""
    errors = shape_errors(body, schemas.ORGANISATION_REQUEST)
    present = given(body, errors)
    data = directory.OrganisationInput(
        kind=present.get("kind", ""),
        name=present.get("name", ""),
        country=present.get("country"),
        email=present.get("email"),
        language=present.get("language", "en"),
        address=present.get("address", ""),
        trust_removal_reports=present.get("trust_removal_reports"),
        api_base_url=present.get("api_base_url"),
        forward_by=present.get("forward_by"),
        api_token=present.get("api_token"),
    )
    try:
        directory.validate(data)
    except ValidationFailed as exc:
        errors = exc.fields | errors
    if errors:
        raise ValidationFailed(errors)
    return data


def organisation_kind(args: MultiDict[str, str]) -> str | None:
    """The ``kind`` filter of GET /organizations; raises ValidationFailed."""
    errors = unknown_or_repeated(args, ("kind",))
    kind = args.get("kind") or None
    choices = schemas.ORGANISATION_REQUEST["properties"]["kind"]["enum"]
    if kind is not None and kind not in choices:
        errors["kind"] = [f"must be one of: {', '.join(choices)}"]
    if errors:
        raise ValidationFailed(errors)
    return kind


# The operations above, by path relative to the API's root (/api/v1).
OPENAPI_PATHS: Json = {
    "/organizations": {
        "get": {
            "operationId": "list_organizations",
            "tags": ["organizations"],
            "summary": "Active partner hotlines, police units and hosting providers",
            "parameters": [
                operations.query(
                    "kind",
                    operations.or_empty(enum_of(OrgKind)),
                    "Only organisations of this kind (empty: every kind)",
                )
            ],
            "responses": {
                "200": operations.ok("Organisations by name", "OrganisationList"),
                **operations.errors(401, 422),
            },
        },
        "post": {
            "operationId": "create_organization",
            "tags": ["organizations"],
            "summary": "Add an organisation (supervisors and admins)",
            "requestBody": operations.body(schemas.ORGANISATION_REQUEST),
            "responses": {
                "201": operations.ok("Created", "Organisation"),
                **operations.errors(*operations.BODY_ERRORS, 403),
            },
        },
    },
}

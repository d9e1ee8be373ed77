"""API v1 routes (see casemgr/api/openapi.py for the contract, docs/api.md for the rules).

Thin: read the request (``inputs``), call a service, commit, answer with what
``schemas`` builds. Domain errors are answered by ``casemgr/http.py``.
"""

from __future__ import annotations

from flask import Response, request
from sqlalchemy.exc import IntegrityError

from casemgr import context
from casemgr.api import bp, inputs, openapi, schemas
from casemgr.api.auth import current_api_user, token_required
from casemgr.api.errors import ApiError
from casemgr.auth.models import User
from casemgr.cases import services as cases
from casemgr.cases.workflow import RULES, Action
from casemgr.directory.operations import create_organisation
from casemgr.directory.queries import list_organisations
from casemgr.domain import Role
from casemgr.extensions import csrf, db

# Only a bearer token authenticates the API, and a browser never sends one on
# its own: there is no ambient credential for a CSRF token to protect.
csrf.exempt(bp)


@bp.errorhandler(ApiError)
def api_error(exc: ApiError) -> Response:
    return exc.response()


@bp.after_request
def never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi_document():
    inputs.query_parameters(request.args, ())
    return openapi.document(
        max_urls=context.setting("MAX_URLS_PER_SUBMISSION"),
        max_per_page=context.setting("API_MAX_PER_PAGE"),
        languages=context.setting("LANGUAGES"),
    )


@bp.post("/reports")
@token_required()
def submit_report():
    inputs.query_parameters(request.args, ())
    report = inputs.report_input(
        inputs.json_object(),
        max_urls=context.setting("MAX_URLS_PER_SUBMISSION"),
        languages=context.setting("LANGUAGES"),
    )
    result = _receive(report, current_api_user())
    answer = schemas.report_result(result)  # before the commit expires what it reads
    db.session.commit()
    return answer, 201 if result.created else 200


def _receive(report: cases.ReportInput, user: User) -> cases.ReceiveResult:
    def receive() -> cases.ReceiveResult:
        return cases.receive_report(
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
    query = inputs.case_list_query(
        request.args, user_id=user.id, max_per_page=context.setting("API_MAX_PER_PAGE")
    )
    page = cases.queue(
        db.session,
        query.filters,
        user_id=user.id,
        now=context.now(),
        page=query.page,
        per_page=query.per_page,
    )
    return schemas.case_list(page, now=context.now())


@bp.get("/cases/<int:case_id>")
@token_required()
def get_case(case_id: int):
    inputs.query_parameters(request.args, ())
    case = cases.case_for_page(db.session, case_id)
    return schemas.case_detail(case, actor=current_api_user().actor, now=context.now())


@bp.post("/cases/<int:case_id>/actions/<action>")
@token_required()
def act(case_id: int, action: str):
    """404 for an unknown case or action; the workflow answers the rest (403/409/422)."""
    inputs.query_parameters(request.args, ())
    actor = current_api_user().actor
    case = cases.case_for_page(db.session, case_id)
    if action not in RULES:
        allowed = cases.allowed_actions(case, actor)
        raise ApiError(
            404,
            "unknown_action",
            f"'{action[:100]}' is not an action; allowed now: {', '.join(allowed) or 'none'}",
            allowed_actions=allowed,
        )
    wanted = inputs.action_request(
        inputs.json_object(), RULES[Action(action)], if_match=request.headers.get("If-Match")
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
    case = cases.case_for_page(db.session, case_id)
    return schemas.case_detail(case, actor=actor, now=context.now())


@bp.get("/organizations")
@token_required()
def list_organizations():
    kind = inputs.organisation_kind(request.args)
    return schemas.organisation_list(list_organisations(db.session, kind))


@bp.post("/organizations")
@token_required(Role.SUPERVISOR)
def create_organization():
    inputs.query_parameters(request.args, ())
    organisation = create_organisation(
        db.session,
        inputs.organisation_input(inputs.json_object()),
        now=context.now(),
        actor=current_api_user().actor,
    )
    db.session.commit()
    return schemas.organisation(organisation), 201

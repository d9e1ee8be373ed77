from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from casemgr import context
from casemgr.auth import accounts
from casemgr.auth.access import staff_required
from casemgr.cases import (
    bp,
    page_state,
    queries,
    queue_args,
    queue_page,
    receiving,
    related,
    workbench,
)
from casemgr.cases import services as cases
from casemgr.cases.bulk_forms import organisation_options
from casemgr.cases.forms import (
    ContactRevealForm,
    ManualReportForm,
    action_values,
    build_action_form,
    submitted_values,
)
from casemgr.cases.labels import KINDS, label
from casemgr.cases.models import Case
from casemgr.cases.next_step import next_steps
from casemgr.cases.states import Action
from casemgr.cases.workflow import RULES
from casemgr.checks.queries import latest_for_case
from casemgr.directory import tracing
from casemgr.directory.models import Organisation
from casemgr.errors import InvalidTransition, PermissionDenied, StaleVersion, ValidationFailed
from casemgr.extensions import db
from casemgr.forms import attach_errors
from casemgr.intake.url_lists import TooManyURLs, parse_url_lines
from casemgr.notices.queries import letters_for_case
from casemgr.reporter import staff_views as reporter_side
from casemgr.responses.services import responses_of_case


@bp.route("/")
@staff_required
def queue():
    args = queue_args.parse(request.args)
    return queue_page.render_queue(args, status=400 if args.problems else 200)


def _action_options() -> dict[str, list[tuple[str, str]]]:
    """Select choices by what a field refers to; staff start with the signed-in user."""
    staff = sorted(accounts.active_staff(db.session), key=lambda u: u.id != current_user.id)
    options = {
        "staff": [
            (str(u.id), _("%(name)s (you)", name=u.name) if u.id == current_user.id else u.name)
            for u in staff
        ]
    }
    options.update(organisation_options(db.session))
    return options


# Action fields the case page may pre-fill from its query string; the workflow
# still checks them on submit.
PREFILL_FIELDS = ("provider_id", "partner_id", "police_id", "hosting_ip", "hosting_country")


def _prefill() -> dict[str, str]:
    values = {}
    for name in PREFILL_FIELDS:
        value = (request.args.get(name) or "").strip()
        if value and len(value) <= 64 and value.isprintable():
            values[name] = value
    return values


def _render_case(case: Case, *, status: int = 200, note=None):
    now = context.now()
    failed = page_state.take_failed(session, case.id)
    kept_trace = page_state.trace_for(session, db.session, case.id, now=now)
    trace = kept_trace.result if kept_trace else None
    allowed = cases.allowed_actions(case, current_user.actor)
    defaults = workbench.defaults(db.session, case, trace, allowed, _prefill())
    defaults.setdefault("assignee_id", str(current_user.id))
    suggestion = workbench.suggestion(db.session, case, allowed, defaults)
    steps = next_steps(
        allowed,
        suggested=suggestion.action if suggestion else None,
        failed=failed.action if failed else None,
    )
    options = _action_options()
    forms = workbench.action_forms(case, steps.actions, options, defaults, suggestion, failed)
    take = workbench.take_offer(case, allowed, current_user.id)
    opened = steps.opened
    reporter_panel = reporter_side.case_panel(case)
    contact_form = _contact_form(case, reporter_panel)
    if opened == Action.ASSIGN and take and not (failed and failed.action == Action.ASSIGN):
        opened = None  # the Take button is the next step, not the assign form
    return (
        render_template(
            "cases/case.html",
            case=case,
            forms=forms,
            opened=opened,
            take=take,
            take_is_next=take is not None and steps.opened == Action.ASSIGN,
            failed=failed,
            error_summary=workbench.error_summary(forms),
            suggestion=suggestion,
            suggested_label=label(suggestion.action, "action") if suggestion else None,
            suggested_organisation=_organisation_label(suggestion),
            trace=trace,
            kept_trace=kept_trace,
            reporter=workbench.reporter_facts(case.submission),
            same_submission=related.same_submission(db.session, case),
            same_host=related.open_on_same_host(db.session, case),
            duplicates=queries.duplicates_of(db.session, case),
            field_names=_field_names(options),
            now=now,
            contact_form=contact_form,
            reporter_panel=reporter_panel,
            question_form=reporter_side.question_form() if reporter_panel else None,
            letters=letters_for_case(db.session, case.id),
            provider_answers=responses_of_case(db.session, case.id),
            removal_checks=latest_for_case(db.session, case.id),
            note=note,  # a refused note to show again (note_views.py)
            position=queue_page.position(case),
        ),
        status,
    )


def _contact_form(case: Case, reporter_panel) -> ContactRevealForm | None:
    """The "Show contact" form, only for those who may see it and only when there
    is a contact or messages: the page tells others nothing more than before."""
    has_messages = reporter_panel is not None and reporter_panel.has_messages
    if case.submission.reporter_contact is None and not has_messages:
        return None
    if cases.contact_refusal(case, current_user.actor, context.contact_viewers()):
        return None
    return ContactRevealForm(prefix="contact", formdata=None)


def _field_names(options: dict[str, list[tuple[str, str]]]) -> dict[str, dict[str, str]]:
    """For the history: field -> {id: label}, so events name people and organisations."""
    targets = {
        spec.name: spec.refers_to
        for rule in RULES.values()
        for spec in rule.fields
        if spec.refers_to
    }
    names = {name: dict(options.get(target, [])) for name, target in targets.items()}
    # Codes recorded by what comes back from outside, in words.
    for field, kind in (("outcome", "check_outcome"), ("source", "removal_source")):
        names[field] = {code: str(text) for code, text in KINDS[kind].items()}
    names["answer"] = {
        code: str(text)
        for kind in ("provider_answer", "attention")
        for code, text in KINDS[kind].items()
    }
    return names


def _organisation_label(suggestion) -> str | None:
    if suggestion is None or suggestion.organisation_id is None:
        return None
    organisation = db.session.get(Organisation, suggestion.organisation_id)
    return organisation.label if organisation else None


def _to_case_page(case_id: int, **anchor):
    """Back to the case page with a GET (post/redirect/get): a reload sends nothing again."""
    return redirect(url_for("cases.case_page", case_id=case_id, **anchor), code=303)


@bp.route("/<int:case_id>")
@staff_required
def case_page(case_id: int):
    return _render_case(queries.case_for_page(db.session, case_id))


@bp.route("/<int:case_id>/actions/<action>", methods=["POST"])
@staff_required
def act(case_id: int, action: str):
    case = queries.case_for_page(db.session, case_id)
    if action not in RULES:
        abort(404, description=f"'{action}' is not an action.")
    form = build_action_form(RULES[Action(action)], _action_options(), formdata=request.form)
    if not form.validate():
        return _back_with_errors(case_id, form, form.errors)
    version = form.version.data
    try:
        cases.apply_action(
            db.session,
            case,
            action,
            action_values(form),
            actor=current_user.actor,
            now=context.now(),
            timings=context.timings(),
            expected_version=int(version) if version and version.isdecimal() else None,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _back_with_errors(case_id, form, exc.fields)
    except StaleVersion as exc:
        db.session.rollback()
        flash(workbench.stale_message(exc.described()), "error")
        return _back_with_errors(case_id, form, {})
    except (InvalidTransition, PermissionDenied) as exc:
        # Not a form to correct but a request the page did not offer (or no
        # longer offers): refused with its status, and nothing is kept.
        db.session.rollback()
        flash(workbench.refusal_message(exc), "error")
        return _render_case(
            queries.case_for_page(db.session, case_id),
            status=403 if isinstance(exc, PermissionDenied) else 409,
        )
    db.session.commit()
    flash(workbench.done_message(action, case, current_user.id), "success")
    return _to_case_page(case.id)


def _back_with_errors(case_id: int, form, errors: dict[str, list[str]]):
    """Keep what was typed and the errors for the case page, and go back to it."""
    page_state.keep_failed(
        session,
        page_state.FailedAction(
            case_id,
            form.rule.action.value,
            submitted_values(form),
            {name: list(messages) for name, messages in errors.items() if name != "version"},
        ),
    )
    return _to_case_page(case_id)


@bp.route("/<int:case_id>/trace", methods=["POST"])
@staff_required
def trace_host(case_id: int):
    """Look the case's host up in DNS and match it against the directory.

    Only on the analyst's request: the look-up is a network action. Nothing
    on the case changes; the page shows what was found (kept in the session
    for a while, see page_state) and fills it into the action forms. The
    look-up is audited."""
    case = queries.case_for_page(db.session, case_id)
    now = context.now()
    result = tracing.trace_case(
        db.session,
        case_id=case.id,
        host=case.host,
        resolver=current_app.extensions["casemgr.resolver"],
        timeout=float(context.setting("TRACE_DNS_TIMEOUT_SECONDS")),
        actor=current_user.actor,
        now=now,
    )
    db.session.commit()
    page_state.keep_trace(session, case.id, result, now=now)
    return _to_case_page(case.id, _anchor="trace")


@bp.route("/<int:case_id>/contact", methods=["POST"])
@staff_required
def show_contact(case_id: int):
    """Reveal the reporter's contact details to those with a need to know
    (CONTACT_VIEWERS), for a reason; every viewing is audited with it."""
    case = queries.case_for_page(db.session, case_id)
    actor, viewers = current_user.actor, context.contact_viewers()
    if refusal := cases.contact_refusal(case, actor, viewers):
        raise PermissionDenied(refusal)
    form = ContactRevealForm(prefix="contact")
    contact, messages = None, []
    if form.validate():
        try:
            contact = cases.reveal_contact(
                db.session,
                case,
                reason=form.reason.data,
                viewers=viewers,
                cipher=context.cipher(),
                actor=actor,
                now=context.now(),
            )
            messages = reporter_side.reveal_messages(case, reason=form.reason.data, actor=actor)
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
    if form.errors:
        # Nothing shown and nothing audited: the form again, with what is missing.
        page = render_template("cases/contact.html", case=case, form=form, revealed=False)
        return page, 422
    db.session.commit()
    page = render_template(
        "cases/contact.html", case=case, contact=contact, messages=messages, revealed=True
    )
    response = make_response(page)
    # The most sensitive page there is: never kept in a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new_report():
    form = ManualReportForm()
    line_errors = []
    max_urls = context.setting("MAX_URLS_PER_SUBMISSION")
    if form.validate_on_submit():
        try:
            urls, line_errors = parse_url_lines(form.urls.data, limit=max_urls)
        except TooManyURLs as exc:
            urls = []
            form.urls.errors = [exc.message]
        if urls and not line_errors:
            result = receiving.receive_report(
                db.session,
                receiving.ReportInput(
                    urls=urls,
                    source=form.source.data,
                    description=form.description.data or "",
                    external_reference=form.external_reference.data or None,
                    reporter_contact=form.reporter_contact.data or None,
                    feedback_requested=form.feedback_requested.data,
                ),
                now=context.now(),
                timings=context.timings(),
                cipher=context.cipher(),
                reference_prefix=context.reference_prefix(),
                max_urls=max_urls,
                submitted_by=current_user,
            )
            db.session.commit()
            submission = result.submission
            flash(
                f"Submission {submission.reference}: {len(submission.cases)} case(s) created.",
                "success",
            )
            if len(submission.cases) == 1:
                return redirect(url_for("cases.case_page", case_id=submission.cases[0].id))
            return redirect(url_for("cases.queue", q=submission.reference, view="all"))
    status = 422 if (form.errors or line_errors) else 200
    return render_template("cases/new.html", form=form, line_errors=line_errors), status

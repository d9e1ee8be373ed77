"""/status: the reporter comes back with the receipt code, anonymously.

The same privacy as /report (casemgr/public/views.py): no IP address, no
user agent, no cookie but the form's CSRF session; the code travels in a
POST body only, never in a URL, and is never logged. A checked code gives a
pass (casemgr/reporter/access.py) for the page's own forms.

Rate limits: a code that is refused counts per client and, with a much
higher ceiling, for everyone together (each check costs a slow hash); a
right code costs nothing, so people behind one shared address are not
locked out by each other's typos.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import RequestEntityTooLarge

from casemgr import context
from casemgr.cases.models import Submission
from casemgr.domain import N_
from casemgr.errors import ValidationFailed
from casemgr.extensions import csrf, db, limiter
from casemgr.i18n import LANG_PARAM, public_url
from casemgr.intake import url_lists
from casemgr.intake.urls import MSG_TOO_MANY_URLS
from casemgr.public.views import PUBLIC_HEADERS, refuse_uploads
from casemgr.reporter import access, bp, codes, queries, services
from casemgr.reporter.forms import AdditionForm, StatusCodeForm
from casemgr.reporter.receipt_issuing import scrypt_params
from casemgr.reporter.statuses import EXPLANATIONS, LABELS

CODE_MESSAGES = {
    codes.CodeProblem.EMPTY: N_("Please type your receipt code."),
    codes.CodeProblem.TOO_SHORT: N_(
        "This code is too short: a receipt code has 24 letters and digits, and we "
        "read %(length)d. Please check you copied all of it."
    ),
    codes.CodeProblem.TOO_LONG: N_(
        "This is longer than a receipt code, which has 24 letters and digits. "
        "Please type only the code."
    ),
    codes.CodeProblem.BAD_CHARACTERS: N_(
        "A receipt code has only the letters A to Z and the digits 0 to 9. Please check it."
    ),
}
NOT_FOUND = N_("We found no report with this code. Please check it and try again.")


@bp.after_request
def privacy_headers(response):
    for name, value in PUBLIC_HEADERS.items():
        response.headers.setdefault(name, value)
    response.vary.add("Accept-Language")
    return response


bp.before_request(refuse_uploads)


def _per_client() -> str:
    return current_app.config["STATUS_RATE_LIMIT"]


def _for_everyone() -> str:
    return current_app.config["STATUS_GLOBAL_RATE_LIMIT"]


def _additions_limit() -> str:
    return current_app.config["STATUS_ADDITION_RATE_LIMIT"]


def _refused(response) -> bool:
    """Only refused codes count: a right one costs the reporter nothing."""
    return response.status_code != 200


def _everyone() -> str:
    return "everyone"


@bp.route("/status", methods=["GET", "POST"])
@csrf.exempt  # the form checks its token itself and shows the page again
@limiter.limit(_per_client, methods=["POST"], deduct_when=_refused)
@limiter.limit(
    _for_everyone, methods=["POST"], deduct_when=_refused, key_func=_everyone, scope="status-all"
)
def status():
    if request.method == "GET":
        if set(request.args) - {LANG_PARAM}:
            # A code put in the address (a bookmark, a link someone sent) is not
            # read, and not echoed back in the page's links: the bare page.
            return redirect(public_url("reporter.status"), 303)
        return render_template("reporter/code.html", form=StatusCodeForm(formdata=None))
    form = StatusCodeForm()
    if not form.validate():
        return _code_page(form, csrf_failed="csrf_token" in form.errors)
    try:
        submission = services.find_submission(
            db.session, form.code.data or "", params=scrypt_params()
        )
    except codes.CodeRefused as refused:
        form.code.errors.append(gettext(CODE_MESSAGES[refused.problem], length=refused.length))
        return _code_page(form)
    if submission is None:
        form.code.errors.append(gettext(NOT_FOUND))
        return _code_page(form, status=404)
    return _status_page(submission.id)


def _code_page(form: StatusCodeForm, *, status: int = 422, **extra):
    return render_template("reporter/code.html", form=form, **extra), status


@bp.route("/status/add", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(_additions_limit, methods=["POST"])
def add():
    if request.method == "GET":
        # The language switch of a page this form answered: the code again.
        return redirect(public_url("reporter.status"), 303)
    form = AdditionForm()
    submission_id = _pass(form.access.data)
    if submission_id is None:
        return _expired()
    form.validate()
    csrf_failed = "csrf_token" in form.errors
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        return _expired()
    urls, line_errors = _read_urls(form)
    if csrf_failed or line_errors or any(f.errors for f in (form.urls, form.message)):
        return _status_page(
            submission_id, form=form, line_errors=line_errors, csrf_failed=csrf_failed, status=422
        )
    if not urls and not (form.message.data or "").strip():
        form.urls.errors.append(gettext("Please add a web address or a message."))
        return _status_page(submission_id, form=form, status=422)
    try:
        addition = services.add_to_report(
            db.session,
            submission,
            urls=urls,
            message=form.message.data or "",
            now=context.now(),
            timings=context.timings(),
            cipher=context.cipher(),
            reference_prefix=context.reference_prefix(),
            max_urls=current_app.config["MAX_URLS_PER_SUBMISSION"],
        )
    except ValidationFailed:
        db.session.rollback()
        form.form_errors.append(gettext("Your addition could not be accepted. Please check it."))
        return _status_page(submission_id, form=form, status=422)
    db.session.commit()
    current_app.logger.info(
        "public report addition: %d case(s), message %s",
        len(addition.added),
        "yes" if addition.message_added else "no",
    )
    return _status_page(submission_id, addition=addition)


def _read_urls(form: AdditionForm) -> tuple[list[str], list[dict]]:
    limit = current_app.config["MAX_URLS_PER_SUBMISSION"]
    try:
        urls, errors = url_lists.parse_url_lines(form.urls.data or "", limit=limit)
    except url_lists.TooManyURLs as exc:
        form.urls.errors.append(gettext(MSG_TOO_MANY_URLS, limit=exc.limit))
        return [], []
    line_errors = [
        {"line": e.line_number, "raw": e.raw, "message": gettext(e.message)} for e in errors
    ]
    return urls, line_errors


def _pass(token: str | None) -> int | None:
    return access.read_token(
        token or "",
        secret_key=current_app.config["SECRET_KEY"],
        now=context.now(),
        max_age=int(current_app.config["STATUS_ACCESS_MAX_AGE"]),
    )


def _expired():
    form = StatusCodeForm(formdata=None)
    form.code.errors = [
        *form.code.errors,
        gettext("For your privacy, this page closed after a while. Please type your code again."),
    ]
    return _code_page(form, status=410)


def _status_page(submission_id: int, *, form: AdditionForm | None = None, status=200, **extra):
    submission = db.session.get(Submission, submission_id)
    page = queries.status_page(db.session, submission, cipher=context.cipher())
    token = access.make_token(
        submission_id, secret_key=current_app.config["SECRET_KEY"], now=context.now()
    )
    if form is None:
        form = AdditionForm(formdata=None)
    form.access.data = token
    extra.setdefault("line_errors", [])
    return render_template(
        "reporter/status.html",
        page=page,
        form=form,
        labels=LABELS,
        explanations=EXPLANATIONS,
        max_urls=current_app.config["MAX_URLS_PER_SUBMISSION"],
        **extra,
    ), status


@bp.errorhandler(RateLimitExceeded)
def rate_limited(exc: RateLimitExceeded):
    """Too many tries: say so; what was typed stays in the form (never logged)."""
    try:
        if request.path.endswith("/add"):
            form = AdditionForm()
            submission_id = _pass(form.access.data)
            if submission_id is not None:
                return _status_page(submission_id, form=form, rate_limited=True, status=429)
        return _code_page(StatusCodeForm(), rate_limited=True, status=429)
    except RequestEntityTooLarge:
        return too_large(RequestEntityTooLarge())


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    return render_template(
        "reporter/too_large.html", max_urls=current_app.config["MAX_URLS_PER_SUBMISSION"]
    ), 413

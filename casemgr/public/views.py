"""The public pages: the home page, the anonymous report form, the thank-you page.

Nothing here reads, stores or logs the visitor's IP address or user agent
(the rate limiter only sees a salted hash: casemgr/privacy.py). The only
cookie is the session cookie that carries the form's CSRF token.
"""

from __future__ import annotations

import unicodedata

from flask import current_app, redirect, render_template, request
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from casemgr import context
from casemgr.cases import receiving
from casemgr.errors import ValidationFailed
from casemgr.extensions import csrf, db, limiter
from casemgr.i18n import languages, public_url, selected_language
from casemgr.intake import url_lists
from casemgr.intake.urls import MSG_TOO_MANY_URLS

# assets and contacts register on the blueprint: the fonts' cache, the footer.
from casemgr.public import assets, bp, contacts, limits, receipts  # noqa: F401
from casemgr.public.forms import PublicReportForm
from casemgr.reporter.receipt_issuing import new_receipt_code
from casemgr.reporter.services import issue_receipt

FORM_MIMETYPE = "application/x-www-form-urlencoded"

# The browser keeps no copy of these pages, they load nothing from elsewhere,
# and they tell no other site where the visitor came from.
PUBLIC_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


@bp.after_request
def privacy_headers(response):
    for name, value in PUBLIC_HEADERS.items():
        response.headers.setdefault(name, value)
    response.vary.add("Accept-Language")
    return response


@bp.before_request
def refuse_uploads():
    """The form takes text only: a multipart body (a file upload) is refused unread."""
    if request.method == "POST" and request.mimetype != FORM_MIMETYPE:
        raise UnsupportedMediaType()
    if request.method == "POST":
        # Keep the raw body (at most MAX_CONTENT_LENGTH) for the encoding check;
        # the form is then parsed from this copy.
        request.get_data(cache=True)


@bp.app_template_filter("visible")
def visible(text: str) -> str:
    """Show invisible characters in an echoed line: controls as ␀-style symbols."""
    out = []
    for ch in text:
        if ord(ch) < 32:
            out.append(chr(0x2400 + ord(ch)))
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


@bp.route("/")
def home():
    return render_template("public/home.html")


@bp.route("/report", methods=["GET", "POST"])
@csrf.exempt  # the form checks its token itself, so a stale one re-renders the form
# The lower decorator is registered, and so checked, first (within a window's
# length): past the flood ceiling the answer is its short page.
@limiter.limit(
    limits.accepted_limit, methods=["POST"], scope=limits.ACCEPTED_SCOPE, deduct_when=limits.charged
)
@limiter.limit(limits.flood_limit, methods=["POST"], scope=limits.FLOOD_SCOPE)
def report():
    form = PublicReportForm()
    if request.method == "GET":
        return _form_page(form)
    if form.subject.data:
        # The hidden field is filled in: a bot. It gets what a person would
        # get, minus the reference, and nothing is recorded.
        current_app.logger.info("public report dropped: the hidden field was filled in")
        limits.charge()
        return _to_thanks(receipts.Receipt(None, 0))

    form.validate()  # CSRF token, lengths, readable text; errors land on the fields
    form.flag_unreadable(request.get_data(cache=True))
    csrf_failed = "csrf_token" in form.errors
    urls, line_errors = _read_urls(form)
    if csrf_failed or line_errors or _has_errors(form):
        return _form_page(form, line_errors=line_errors, csrf_failed=csrf_failed), (
            400 if csrf_failed else 422
        )
    code = new_receipt_code()  # the slow hash, before the transaction writes
    try:
        result = receiving.receive_report(
            db.session,
            receiving.ReportInput(
                urls=urls,
                source="public",
                description=form.description.data or "",
                seen_where=form.seen_where.data or None,
                reporter_contact=(form.contact.data or "").strip() or None,
                feedback_requested=form.feedback_requested.data,
                language=selected_language(),
            ),
            now=context.now(),
            timings=context.timings(),
            cipher=context.cipher(),
            reference_prefix=context.reference_prefix(),
            max_urls=current_app.config["MAX_URLS_PER_SUBMISSION"],
            languages=languages(),
        )
    except ValidationFailed:
        db.session.rollback()
        form.form_errors.append(gettext("Your report could not be accepted. Please check it."))
        return _form_page(form), 422
    # Read before the commit, which expires the objects (reading after it reloads them).
    receipt = receipts.Receipt(
        result.submission.reference,
        len(result.submission.cases),
        issue_receipt(db.session, result.submission, code, now=context.now()),
    )
    new_work = limits.makes_new_work(case.duplicate_of_id for case in result.submission.cases)
    db.session.commit()
    if new_work:
        limits.charge()
    current_app.logger.info(
        "public report %s received: %d case(s)", receipt.reference, receipt.count
    )
    return _to_thanks(receipt)


def _read_urls(form: PublicReportForm) -> tuple[list[str], list[dict]]:
    """The normalised URLs, and the bad lines with their messages translated."""
    limit = current_app.config["MAX_URLS_PER_SUBMISSION"]
    try:
        urls, errors = url_lists.parse_url_lines(form.urls.data or "", limit=limit)
    except url_lists.TooManyURLs as exc:
        form.urls.errors.append(gettext(MSG_TOO_MANY_URLS, limit=exc.limit))
        return [], []
    if not urls and not errors and not form.urls.errors:
        form.urls.errors.append(gettext("Please enter at least one web address."))
    line_errors = [
        {"line": e.line_number, "raw": e.raw, "message": gettext(e.message)} for e in errors
    ]
    return urls, line_errors


def _has_errors(form: PublicReportForm) -> bool:
    return any(field.errors for field in form if field.name != "csrf_token") or bool(
        form.form_errors
    )


def _form_page(form: PublicReportForm, **extra) -> str:
    extra.setdefault("line_errors", [])
    return render_template(
        "public/report.html",
        form=form,
        max_urls=current_app.config["MAX_URLS_PER_SUBMISSION"],
        **extra,
    )


def _to_thanks(receipt: receipts.Receipt):
    token = receipts.make_token(
        receipt, secret_key=current_app.config["SECRET_KEY"], now=context.now()
    )
    return redirect(public_url("public.thanks", t=token), 303)


@bp.route("/report/thanks")
def thanks():
    receipt = receipts.read_token(
        request.args.get("t", ""),
        secret_key=current_app.config["SECRET_KEY"],
        now=context.now(),
        max_age=int(current_app.config["RECEIPT_MAX_AGE"]),
    )
    if receipt is None:
        return render_template("public/receipt_expired.html"), 410
    return render_template("public/thanks.html", receipt=receipt)


@bp.errorhandler(RateLimitExceeded)
def rate_limited(exc: RateLimitExceeded):
    """Too many reports from one connection: say so, and keep what they typed.

    Past the flood ceiling the answer is a short page instead: drawing the
    form again for each of thousands of requests would cost the others."""
    if limits.is_flood(exc):
        return render_template("public/flooded.html"), 429
    try:
        form = PublicReportForm()
    except RequestEntityTooLarge:
        return too_large(RequestEntityTooLarge())
    return _form_page(form, rate_limited=True), 429


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    return render_template(
        "public/too_large.html", max_urls=current_app.config["MAX_URLS_PER_SUBMISSION"]
    ), 413

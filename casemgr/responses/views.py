"""The response page: a letter's URLs, and a form to answer about each.

No account: the link is the key. A link that is wrong, expired or
superseded gets one and the same page, so the page never tells whether a
link ever existed. Nothing of the reporter, of other letters or of other
cases is shown. Like the public pages, nothing here records the visitor's
address (the rate limiter sees a salted hash, the request log the route).
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request
from flask_babel import force_locale, gettext
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import RequestEntityTooLarge

from casemgr import context
from casemgr.extensions import db, limiter
from casemgr.i18n import chosen_language, languages, public_url
from casemgr.public.views import PUBLIC_HEADERS
from casemgr.responses import bp
from casemgr.responses.forms import ANSWER_LABELS, answers_of, response_form
from casemgr.responses.services import OpenLetter, open_letter, record_answers

HEADERS = {**PUBLIC_HEADERS, "X-Robots-Tag": "noindex, nofollow"}


@bp.after_request
def privacy_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _rate_limit() -> str:
    return current_app.config["NOTICE_RESPONSE_RATE_LIMIT"]


def _language(letter: OpenLetter | None) -> str:
    """The language chosen with the switch, else the recipient's (its preferred
    language in the directory, which the letter is in where there is wording
    for it), else the letter's, else the default."""
    chosen = chosen_language()
    if chosen:
        return chosen
    if letter is not None:
        recipient = letter.notice.recipient
        for language in (recipient.language if recipient else None, letter.notice.language):
            if language in languages():
                return language
    return languages()[0]


@bp.route("/respond/<token>", methods=["GET", "POST"])
@limiter.limit(_rate_limit)
def respond(token: str):
    now = context.now()
    letter = open_letter(db.session, token, now=now)
    with force_locale(_language(letter)):
        if letter is None:
            return render_template("responses/unavailable.html"), 404
        form = response_form(letter.cases, now=now)
        if request.method == "GET":
            return _page(letter, form, token, saved=request.args.get("saved") == "1")
        if not form.validate():
            return _page(letter, form, token), 400 if "csrf_token" in form.errors else 422
        answers = answers_of(form, letter.cases)
        if not answers:
            form.form_errors.append(gettext("Choose an answer for at least one URL."))
            return _page(letter, form, token), 422
        record_answers(db.session, letter, answers, now=now, timings=context.timings())
        db.session.commit()
        current_app.logger.info(
            "letter %s: %d answer(s) on its response page", letter.notice.reference, len(answers)
        )
        return redirect(public_url("responses.respond", token=token, saved="1"), 303)


def _page(letter: OpenLetter, form, token: str, *, saved: bool = False):
    return render_template(
        "responses/letter.html",
        letter=letter,
        form=form,
        token=token,
        saved=saved,
        answer_labels=ANSWER_LABELS,
        hotline=current_app.config["HOTLINE_NAME"],
        hotline_email=current_app.config.get("HOTLINE_EMAIL") or "",
    )


@bp.errorhandler(RateLimitExceeded)
def rate_limited(exc: RateLimitExceeded):
    with force_locale(chosen_language() or languages()[0]):
        return render_template("responses/busy.html"), 429


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    with force_locale(chosen_language() or languages()[0]):
        return render_template("responses/too_large.html"), 413

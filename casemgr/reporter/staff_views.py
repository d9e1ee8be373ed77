"""The staff's side on a case page: a question to the reporter."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import staff_required
from casemgr.cases import bp
from casemgr.cases.queries import case_for_page
from casemgr.errors import PermissionDenied, ValidationFailed
from casemgr.extensions import db
from casemgr.reporter import queries, services
from casemgr.reporter.forms import QuestionForm


@bp.route("/<int:case_id>/reporter-question", methods=["POST"])
@staff_required
def ask_reporter(case_id: int):
    """Post a question for the reporter (the case's assignee or a supervisor); audited."""
    case = case_for_page(db.session, case_id)
    if refusal := services.question_refusal(case, current_user.actor):
        raise PermissionDenied(refusal)
    form = QuestionForm(prefix="question")
    problems: list[str] = []
    if not form.validate():
        problems = [error for errors in form.errors.values() for error in errors]
    else:
        try:
            services.ask_reporter(
                db.session,
                case,
                question=form.body.data or "",
                actor=current_user.actor,
                cipher=context.cipher(),
                now=context.now(),
            )
        except ValidationFailed as exc:
            db.session.rollback()
            problems = [message for messages in exc.fields.values() for message in messages]
    if problems:
        # Shown again with the text kept and what is wrong; nothing posted.
        page = render_template("reporter/question.html", case=case, form=form, problems=problems)
        return page, 422
    db.session.commit()
    flash(gettext("Your question was posted. The reporter sees it with their receipt code."))
    return redirect(url_for("cases.case_page", case_id=case_id, _anchor="reporter"), 303)


# What the case page and the contact reveal (casemgr/cases/views.py) ask of this feature.


def case_panel(case):
    may_ask = services.question_refusal(case, current_user.actor) is None
    return queries.case_panel(db.session, case, may_ask=may_ask)


def question_form() -> QuestionForm:
    return QuestionForm(prefix="question", formdata=None)


def reveal_messages(case, *, reason: str, actor) -> list[services.ShownMessage]:
    """After the contact reveal's checks passed: the messages, audited."""
    return services.reveal_messages(
        db.session, case, reason=reason, actor=actor, cipher=context.cipher(), now=context.now()
    )

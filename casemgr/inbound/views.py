"""The supervisors' "unmatched mail" page, and a reply's text from the case page."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import staff_required, supervisor_required
from casemgr.cases.models import Case
from casemgr.database import get_or_raise
from casemgr.domain import Role
from casemgr.errors import Conflict, ValidationFailed
from casemgr.extensions import db
from casemgr.inbound import bp, queries, services
from casemgr.inbound.forms import AttachForm, DiscardForm
from casemgr.inbound.models import InboundMail
from casemgr.navigation import register_nav_item

# In the menu only while mail waits: the bar has no room for another item that
# is usually empty (the outbox page links to the list at all times).
register_nav_item(
    lambda: gettext("Unmatched mail (%(num)d)", num=queries.unmatched_count(db.session)),
    "inbound.unmatched",
    Role.SUPERVISOR,
    shown=lambda: queries.unmatched_count(db.session) > 0,
)


@bp.route("/mail/unmatched")
@supervisor_required
def unmatched():
    return render_template("inbound/unmatched.html", mails=queries.unmatched(db.session))


def _render_mail(mail: InboundMail, form: AttachForm | None = None, status: int = 200):
    return (
        render_template(
            "inbound/mail.html",
            mail=mail,
            attach_form=form or AttachForm(),
            discard_form=DiscardForm(),
        ),
        status,
    )


@bp.route("/mail/<int:mail_id>")
@supervisor_required
def show(mail_id: int):
    return _render_mail(get_or_raise(db.session, InboundMail, mail_id, what="mail"))


@bp.route("/mail/<int:mail_id>/attach", methods=["POST"])
@supervisor_required
def attach(mail_id: int):
    mail = get_or_raise(db.session, InboundMail, mail_id, what="mail")
    form = AttachForm()
    if not form.validate_on_submit():
        return _render_mail(mail, form, 422)
    try:
        services.attach(
            db.session, mail_id, form.case.data or "", actor=current_user.actor, now=context.now()
        )
    except ValidationFailed as exc:
        db.session.rollback()
        mail = get_or_raise(db.session, InboundMail, mail_id, what="mail")
        form.case.errors = list(exc.fields.get("case", [str(exc)]))
        return _render_mail(mail, form, 422)
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("inbound.unmatched"))
    db.session.commit()
    flash(gettext("The mail was attached to the case as a provider reply."), "success")
    return redirect(url_for("inbound.unmatched"))


@bp.route("/mail/<int:mail_id>/discard", methods=["POST"])
@supervisor_required
def discard(mail_id: int):
    get_or_raise(db.session, InboundMail, mail_id, what="mail")
    form = DiscardForm()
    if not form.validate_on_submit():
        flash(gettext("The form expired; try again."), "error")
        return redirect(url_for("inbound.show", mail_id=mail_id))
    try:
        services.discard(db.session, mail_id, actor=current_user.actor, now=context.now())
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("inbound.unmatched"))
    db.session.commit()
    flash(gettext("The mail was discarded."), "success")
    return redirect(url_for("inbound.unmatched"))


@bp.route("/cases/<int:case_id>/replies/<int:mail_id>")
@staff_required
def case_reply(case_id: int, mail_id: int):
    case = get_or_raise(db.session, Case, case_id, what="case")
    mail = queries.case_mail(db.session, case.id, mail_id)
    return render_template("inbound/reply.html", case=case, mail=mail)

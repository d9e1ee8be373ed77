"""Letters screens: downloads of the stored PDFs, the letters page, exports, delivery by hand."""

from __future__ import annotations

import tempfile

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import staff_required, supervisor_required
from casemgr.cases.labels import label
from casemgr.database import get_or_raise, is_valid_id
from casemgr.directory.queries import by_kind
from casemgr.domain import Role
from casemgr.errors import Conflict, ValidationFailed
from casemgr.extensions import db
from casemgr.forms import attach_errors
from casemgr.http import day_start_arg, page_arg, safe_next_path, stored_pdf_response
from casemgr.navigation import register_nav_item
from casemgr.notices import bp
from casemgr.notices.export import ExportRequest, NothingToExport, export_letters
from casemgr.notices.forms import ExportForm
from casemgr.notices.letters import mark_delivered
from casemgr.notices.models import KINDS, Notice
from casemgr.notices.queries import NoticeFilter, list_notices

PAGE_SIZE = 50


register_nav_item(_l("Letters"), "notices.letters", Role.SUPERVISOR)


@bp.route("/<int:notice_id>/pdf")
@staff_required
def download(notice_id: int):
    notice = get_or_raise(db.session, Notice, notice_id, what="letter")
    return stored_pdf_response(
        notice.pdf, filename=notice.filename, sha256=notice.sha256, created_at=notice.created_at
    )


def _recipients() -> list[tuple[str, str]]:
    return [
        (str(o.id), f"{o.label} · {label(o.kind, 'org_kind')}")
        for organisations in by_kind(db.session).values()
        for o in organisations
    ]


def _render_letters(form: ExportForm, status: int = 200):
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    recipient = request.args.get("recipient", "")
    page = page_arg()
    filters = NoticeFilter(
        kind=kind,
        recipient_id=int(recipient)
        if recipient.isdecimal() and is_valid_id(int(recipient))
        else None,
        start=day_start_arg("from"),
        end=day_start_arg("to", days_after=1),
    )
    result = list_notices(db.session, filters, page=page, per_page=PAGE_SIZE)
    return (
        render_template(
            "notices/letters.html",
            page=result,
            form=form,
            kinds=KINDS,
            recipients=_recipients(),
            args=request.args,
        ),
        status,
    )


@bp.route("/")
@supervisor_required
def letters():
    return _render_letters(ExportForm(_recipients(), formdata=None))


@bp.route("/export", methods=["POST"])
@supervisor_required
def export():
    """A period's letters as one PDF or a zip; audited. Nothing in it: 404 and a message."""
    form = ExportForm(_recipients())
    if not form.validate():
        flash(gettext("The export needs a valid period."), "error")
        return _render_letters(form, 422)
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 - sent below
    try:
        export_request = ExportRequest(
            first=form.first.data,
            last=form.last.data,
            kind=form.kind.data or None,
            recipient_id=int(form.recipient.data) if form.recipient.data else None,
            format=form.format.data,
            timezone=context.timezone(),
        )
        result = export_letters(
            db.session,
            export_request,
            out,
            now=context.now(),
            actor=current_user.actor,
            max_merged=context.setting("NOTICE_EXPORT_MAX_LETTERS"),
            via="web",
        )
    except NothingToExport:
        out.close()
        db.session.rollback()
        flash(
            gettext(
                "No letter from %(first)s to %(last)s matches: nothing to export.",
                first=export_request.first.isoformat(),
                last=export_request.last.isoformat(),
            ),
            "error",
        )
        return _render_letters(form, 404)
    except ValidationFailed as exc:
        out.close()
        db.session.rollback()
        attach_errors(form, exc)
        return _render_letters(form, 422)
    except BaseException:
        out.close()
        raise
    db.session.commit()
    out.seek(0)
    mimetype = "application/pdf" if export_request.format == "pdf" else "application/zip"
    response = send_file(out, mimetype=mimetype, as_attachment=True, download_name=result.filename)
    response.call_on_close(out.close)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:notice_id>/delivered", methods=["POST"])
@supervisor_required
def delivered(notice_id: int):
    notice = get_or_raise(db.session, Notice, notice_id, what="letter")
    try:
        mark_delivered(db.session, notice, actor=current_user.actor, now=context.now())
    except Conflict:
        db.session.rollback()
        flash(
            gettext("%(reference)s was marked as sent already.", reference=notice.reference),
            "error",
        )
        return redirect(url_for("notices.letters"))
    db.session.commit()
    flash(
        gettext("%(reference)s: marked as delivered by hand.", reference=notice.reference),
        "success",
    )
    return redirect(safe_next_path(request.form.get("next")) or url_for("notices.letters"))

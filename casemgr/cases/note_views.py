"""Adding a note to a case from its page (templates/cases/_note_form.html).

A note that is refused (empty, too long, control characters) re-shows the
case page with 422: the text as typed (control characters taken out) and the
message under the field. It is not stashed for a redirect: the session is a
cookie, and a note of 4,000 Khmer characters is 12 KB, three times what a
browser keeps in one. Reloading that page sends the refused text again,
which changes nothing. A note that is added redirects to the case's history
(post, redirect, get).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import staff_required
from casemgr.cases import bp, notes, queries, views
from casemgr.errors import ValidationFailed
from casemgr.extensions import db


@dataclass(frozen=True)
class NoteDraft:
    """A refused note, shown again in the form with why."""

    body: str
    errors: list[str]


# The case page shows events and notes in one timeline: {% for entry in case|history %}.
bp.add_app_template_filter(lambda case: notes.history(case.events, case.notes), "history")
bp.add_app_template_global(notes.MAX_NOTE_LENGTH, "max_note_length")


@bp.route("/<int:case_id>/notes", methods=["POST"])
@staff_required
def add_note(case_id: int):
    case = queries.case_for_page(db.session, case_id)
    body = request.form.get("body", "")
    try:
        notes.add_note(db.session, case, body, actor=current_user.actor, now=context.now())
    except ValidationFailed as exc:  # refused before anything was written
        draft = NoteDraft(body=notes.printable(body), errors=exc.fields.get("body", [str(exc)]))
        return views._render_case(case, note=draft, status=422)
    db.session.commit()
    flash(_("Note added."), "success")
    return redirect(url_for("cases.case_page", case_id=case_id, _anchor="history"))

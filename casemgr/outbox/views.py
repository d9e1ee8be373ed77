"""Supervisors' outbox screens: messages waiting for a decision, letters to deliver by hand."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import supervisor_required
from casemgr.domain import Role
from casemgr.errors import Conflict
from casemgr.extensions import db
from casemgr.outbox import bp
from casemgr.outbox import services as outbox
from casemgr.outbox.models import CANCELLED, FAILED, NEEDS_ATTENTION, QUEUED, SENDING, SENT

MAX_ID = 2**31 - 1  # ids are INTEGER: anything larger names nothing


@bp.app_context_processor
def navigation() -> dict:
    """Supervisors' menu item: the outbox, with what waits for them."""
    if not (current_user.is_authenticated and current_user.has_role(Role.SUPERVISOR)):
        return {}
    waiting = outbox.attention_count(db.session) + outbox.manual_delivery_count(db.session)
    return {"outbox_nav_items": [{"label": f"Outbox ({waiting})", "url": url_for("outbox.index")}]}


@bp.route("/")
@supervisor_required
def index():
    return render_template(
        "outbox/index.html",
        counts=outbox.status_counts(db.session),
        attention=outbox.list_messages(db.session, NEEDS_ATTENTION),
        waiting=outbox.list_messages(db.session, (QUEUED, SENDING), limit=50),
        sent=outbox.list_messages(db.session, (SENT,), limit=20),
        cancelled=outbox.list_messages(db.session, (CANCELLED,), limit=20),
        manual_count=outbox.manual_delivery_count(db.session),
        failed=FAILED,
    )


@bp.route("/manual")
@supervisor_required
def manual():
    """Letters to deliver by hand (no usable e-mail address, or e-mail given up)."""
    return render_template(
        "outbox/manual.html", letters=outbox.awaiting_manual_delivery(db.session)
    )


def _act(message_id: int, action, done: str):
    """Run a supervisor's ``action`` on a message, commit, and go back to the outbox."""
    if message_id > MAX_ID:
        abort(404, description="No such message.")
    try:
        row = action(db.session, message_id, actor_id=current_user.id, now=context.now())
    except Conflict as exc:
        db.session.rollback()
        flash(f"{exc}.", "error")
        return redirect(url_for("outbox.index"))
    reference = row.reference
    db.session.commit()
    flash(done.format(reference=reference), "success")
    return redirect(url_for("outbox.index"))


@bp.route("/<int:message_id>/retry", methods=["POST"])
@supervisor_required
def retry(message_id: int):
    return _act(message_id, outbox.retry, "{reference}: queued again (same Message-ID).")


@bp.route("/<int:message_id>/confirm", methods=["POST"])
@supervisor_required
def confirm(message_id: int):
    return _act(message_id, outbox.confirm_delivered, "{reference}: recorded as delivered.")


@bp.route("/<int:message_id>/cancel", methods=["POST"])
@supervisor_required
def cancel(message_id: int):
    return _act(message_id, outbox.cancel, "{reference}: no longer e-mailed.")

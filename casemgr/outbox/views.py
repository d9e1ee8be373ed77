"""Supervisors' outbox screens: messages waiting for a decision, letters to deliver by hand."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import supervisor_required
from casemgr.domain import Role
from casemgr.errors import Conflict
from casemgr.extensions import db
from casemgr.outbox import bp, queries, staff_actions
from casemgr.outbox.models import (
    CANCELLED,
    FAILED,
    NEEDS_ATTENTION,
    QUEUED,
    SENDING,
    SENT,
    OutboxMessage,
)


@bp.app_context_processor
def navigation() -> dict:
    """Supervisors' menu item: the outbox, with what waits for them."""
    if not (current_user.is_authenticated and current_user.has_role(Role.SUPERVISOR)):
        return {}
    waiting = queries.attention_count(db.session) + queries.manual_delivery_count(db.session)
    label = gettext("Outbox (%(num)d)", num=waiting)
    return {"outbox_nav_items": [{"label": label, "url": url_for("outbox.index")}]}


@bp.route("/")
@supervisor_required
def index():
    return render_template(
        "outbox/index.html",
        counts=queries.status_counts(db.session),
        attention=queries.list_messages(db.session, NEEDS_ATTENTION),
        waiting=queries.list_messages(db.session, (QUEUED, SENDING), limit=50),
        sent=queries.list_messages(db.session, (SENT,), limit=20),
        cancelled=queries.list_messages(db.session, (CANCELLED,), limit=20),
        manual_count=queries.manual_delivery_count(db.session),
        failed=FAILED,
    )


@bp.route("/manual")
@supervisor_required
def manual():
    """Letters to deliver by hand (no usable e-mail address, or e-mail given up)."""
    return render_template(
        "outbox/manual.html", letters=queries.awaiting_manual_delivery(db.session)
    )


def _act(message_id: int, action: Callable[..., OutboxMessage], done: Callable[[str], str]):
    """Run a supervisor's ``action`` on a message, commit, and go back to the outbox.

    An unknown id (however large) is the service's NotFound: a 404 page.
    """
    try:
        row = action(db.session, message_id, actor=current_user.actor, now=context.now())
    except Conflict as exc:
        db.session.rollback()
        flash(f"{exc}.", "error")
        return redirect(url_for("outbox.index"))
    reference = row.reference
    db.session.commit()
    flash(done(reference), "success")
    return redirect(url_for("outbox.index"))


@bp.route("/<int:message_id>/retry", methods=["POST"])
@supervisor_required
def retry(message_id: int):
    return _act(
        message_id,
        staff_actions.retry,
        lambda reference: gettext(
            "%(reference)s: queued again (same Message-ID).", reference=reference
        ),
    )


@bp.route("/<int:message_id>/confirm", methods=["POST"])
@supervisor_required
def confirm(message_id: int):
    return _act(
        message_id,
        staff_actions.confirm_delivered,
        lambda reference: gettext("%(reference)s: recorded as delivered.", reference=reference),
    )


@bp.route("/<int:message_id>/cancel", methods=["POST"])
@supervisor_required
def cancel(message_id: int):
    return _act(
        message_id,
        staff_actions.cancel,
        lambda reference: gettext("%(reference)s: no longer e-mailed.", reference=reference),
    )

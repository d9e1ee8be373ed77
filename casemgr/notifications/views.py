"""Each member of staff's notifications: the list, marking read, the count in the menu."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import staff_required
from casemgr.extensions import db
from casemgr.notifications import bp
from casemgr.notifications import services as notifications


@bp.app_context_processor
def navigation() -> dict:
    """Every signed-in member of staff: their notifications, with the unread count."""
    if not current_user.is_authenticated:
        return {}
    count = notifications.unread_count(db.session, current_user.id)
    return {
        "notification_nav_items": [
            {
                "label": gettext("Notifications (%(num)d)", num=count),
                "url": url_for("notifications.index"),
            }
        ]
    }


@bp.route("/")
@staff_required
def index():
    unread_only = request.args.get("show") == "unread"
    return render_template(
        "notifications/index.html",
        notifications=notifications.list_for(db.session, current_user.id, unread_only=unread_only),
        unread_only=unread_only,
    )


@bp.route("/<int:notification_id>/read", methods=["POST"])
@staff_required
def read(notification_id: int):
    """Mark one read; 404 for an id that is not the signed-in person's."""
    notifications.mark_read(db.session, current_user.id, notification_id, now=context.now())
    db.session.commit()
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@staff_required
def read_all():
    notifications.mark_all_read(db.session, current_user.id, now=context.now())
    db.session.commit()
    return redirect(url_for("notifications.index"))

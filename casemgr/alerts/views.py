"""The supervisors' alerts page: open and resolved alerts, and resolving one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from casemgr import context
from casemgr.alerts import bp
from casemgr.alerts import services as alerts
from casemgr.auth.access import supervisor_required
from casemgr.domain import Role
from casemgr.errors import Conflict
from casemgr.extensions import db
from casemgr.navigation import register_nav_item

register_nav_item(
    lambda: gettext("Alerts (%(num)d)", num=alerts.open_alert_count(db.session)),
    "alerts.index",
    Role.SUPERVISOR,
)


@bp.route("")
@supervisor_required
def index():
    resolved = request.args.get("show") == "resolved"
    return render_template(
        "alerts/index.html",
        alerts=alerts.list_alerts(db.session, resolved=resolved),
        resolved=resolved,
    )


@bp.route("/<int:alert_id>/resolve", methods=["POST"])
@supervisor_required
def resolve(alert_id: int):
    try:
        alerts.resolve_alert(db.session, alert_id, actor=current_user.actor, now=context.now())
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("alerts.index"))
    db.session.commit()
    flash(gettext("Alert resolved."), "success")
    return redirect(url_for("alerts.index"))

"""The System page, and the banner every staff page shows supervisors and admins."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from casemgr import context
from casemgr.auth.access import supervisor_required
from casemgr.domain import Role
from casemgr.extensions import db
from casemgr.jobs.health import job_table, scheduler_never_ran
from casemgr.navigation import register_nav_item
from casemgr.system import banner, bp

register_nav_item(_l("System"), "system.index", Role.SUPERVISOR)


@bp.app_context_processor
def job_banner() -> dict:
    """Supervisors and admins: the jobs that are late, failed or never ran."""
    if not (current_user.is_authenticated and current_user.has_role(Role.SUPERVISOR)):
        return {}
    try:
        return {"job_banner": banner.current_banner()}
    except SQLAlchemyError:
        # A page must not fail for its banner (a database not yet migrated).
        db.session.rollback()
        current_app.logger.warning("the job banner could not read the job runs")
        return {}


@bp.get("/")
@supervisor_required
def index():
    now = context.now()
    table = job_table(db.session, current_app.config, now)
    return render_template(
        "system/index.html",
        table=table,
        never_ran=scheduler_never_ran(table),
        now=now,
    )

"""GET /healthz for load balancers and monitoring: does the database answer."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from casemgr.extensions import db
from casemgr.ops import bp


@bp.get("/healthz")
def healthz():
    """200 ``{"status": "ok"}`` when the database answers, else 503; no sign-in needed."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("health check: the database does not answer")
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok"}

"""GET /healthz for load balancers and monitoring: does the database answer,
and how are the scheduled jobs doing."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from casemgr import context
from casemgr.extensions import db
from casemgr.jobs.health import job_table
from casemgr.ops import bp


@bp.get("/healthz")
def healthz():
    """200 ``{"status": "ok", ...}`` when the database answers, else 503; no sign-in needed.

    ``jobs`` holds each job that is on, and ``jobs_status`` is ``ok`` or
    ``attention`` (a job late, failed or never run; ``unknown`` when the runs
    cannot be read). The jobs never change the status code, so a balancer does
    not take the web servers out because the scheduler stopped, unless the
    monitor asks ``?jobs=strict``: then ``attention`` answers 503.
    """
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("health check: the database does not answer")
        return {"status": "unavailable", "database": "unreachable"}, 503
    answer: dict = {"status": "ok"}
    try:
        table = job_table(db.session, current_app.config, context.now())
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("health check: the job runs cannot be read")
        answer["jobs_status"] = "unknown"
        table = None
    if table is not None:
        on = [state for state in table if state.on]
        answer["jobs_status"] = "attention" if any(state.needs_attention for state in on) else "ok"
        answer["jobs"] = {state.job: state.as_json() for state in on}
    strict = request.args.get("jobs") == "strict"
    if strict and answer["jobs_status"] != "ok":
        return answer, 503
    return answer

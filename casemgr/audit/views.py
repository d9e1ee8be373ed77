"""The admin screen of the audit log: search by actor, action, target and period."""

from __future__ import annotations

from flask import render_template, request

from casemgr.audit import bp
from casemgr.audit import services as audit
from casemgr.audit.labels import TARGET_TYPES, action_label, target_label, transition_label
from casemgr.auth import accounts
from casemgr.auth.access import admin_required
from casemgr.extensions import db
from casemgr.http import day_start_arg

PER_PAGE = 50


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdecimal() and len(value) <= 9 else None


def _text_arg(name: str, limit: int) -> str | None:
    value = request.args.get(name, "").strip()
    return value[:limit] or None


@bp.get("/")
@admin_required
def index():
    filters = audit.AuditFilter(
        actor_id=_int_arg("actor"),
        action=_text_arg("action", 60),
        target_type=_text_arg("target_type", 40),
        target_id=_text_arg("target_id", 64),
        since=day_start_arg("since"),
        until=day_start_arg("until", days_after=1),  # the whole day given
    )
    page = audit.search(
        db.session, filters, page=min(max(_int_arg("page") or 1, 1), 10**6), per_page=PER_PAGE
    )
    return render_template(
        "audit/index.html",
        page=page,
        filters=filters,
        args=request.args,
        staff=accounts.list_staff(db.session),
        actions=[(code, action_label(code)) for code in audit.actions(db.session)],
        target_types=[(code, target_label(code)) for code in sorted(TARGET_TYPES)],
        action_label=action_label,
        transition_label=transition_label,
        target_label=target_label,
    )

"""The audit log in plain words: what each recorded action means to a person.

The log keeps its codes (``case.action``, ``auth.login``): they are what a
search filters on and what ``audit verify`` hashes. The admin screen shows
these labels beside them; an action this module does not know (written by a
newer or older version) is shown by its code alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l

from casemgr.cases.labels import label

ACTIONS: Mapping[str, LazyString] = {
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Sign-in failed"),
    "auth.logout": _l("Signed out"),
    "auth.logout_everywhere": _l("Signed out everywhere"),
    "auth.login_refused_locked": _l("Sign-in refused: address locked"),
    "auth.lockout": _l("Sign-ins locked after failures"),
    "auth.password_ok": _l("Password right, second step next"),
    "auth.password_change": _l("Password changed"),
    "auth.password_change_failed": _l("Password change refused"),
    "auth.stale_session": _l("Ended session refused"),
    "auth.2fa_enrol": _l("Second factor set up"),
    "auth.2fa_enrol_failed": _l("Second factor set-up failed"),
    "auth.2fa_recovery_code_used": _l("Recovery code used"),
    "auth.2fa_recovery_codes": _l("New recovery codes"),
    "auth.2fa_replay": _l("Used code refused"),
    "auth.2fa_reset": _l("Second factor reset"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "api_token.create": _l("API token issued"),
    "api_token.revoke": _l("API token revoked"),
    "case.action": _l("Case action"),
    "case.trace": _l("Host traced"),
    "case.note": _l("Note added to a case"),
    "contact.view": _l("Reporter's contact viewed"),
    "contact.purge": _l("Reporter's contact deleted (retention)"),
    "db.backup": _l("Database backed up"),
    "reporter.question": _l("Question sent to a reporter"),
    "reporter.messages_view": _l("Reporter's messages viewed"),
    "organisation.create": _l("Organisation added"),
    "organisation.update": _l("Organisation changed"),
    "organisation.activate": _l("Organisation activated"),
    "organisation.deactivate": _l("Organisation deactivated"),
    "directory.import": _l("Directory imported"),
    "directory.export": _l("Directory exported"),
    "notice.delivered": _l("Letter delivered by hand"),
    "notice.response": _l("Provider answered a letter"),
    "notices.export": _l("Letters exported"),
    "outbox.retry": _l("E-mail retried"),
    "outbox.confirm": _l("E-mail confirmed delivered"),
    "inbound_mail.attach": _l("Unmatched mail attached to a case"),
    "inbound_mail.discard": _l("Unmatched mail discarded"),
    "outbox.cancel": _l("E-mail stopped"),
    "alert.resolve": _l("Alert resolved"),
    "stats.export_figures": _l("Figures exported"),
    "stats.export_cases": _l("Cases exported"),
    "stats.report": _l("Monthly report made"),
    "stats.report_stored": _l("Monthly report stored"),
    "stats.report_replaced": _l("Monthly report replaced"),
    "stats.stored_report_download": _l("Stored monthly report downloaded"),
    "security.csrf_refused": _l("Form refused (CSRF)"),
    "audit.keyed": _l("Audit log keyed from here on"),
    "audit.key_rotated": _l("Audit key changed"),
    "audit.checkpoint": _l("Audit log checkpoint sent"),
    "keys.rotate_contact": _l("Contact-encryption key rotated"),
}

TARGET_TYPES: Mapping[str, LazyString] = {
    "case": _l("Case"),
    "submission": _l("Report"),
    "user": _l("Account"),
    "organisation": _l("Organisation"),
    "directory": _l("Directory"),
    "notice": _l("Letter"),
    "outbox_message": _l("E-mail"),
    "inbound_mail": _l("Mail received"),
    "alert": _l("Alert"),
    "monthly_report": _l("Monthly report"),
    "audit_checkpoint": _l("Audit checkpoint"),
}


def action_label(action: str, details: dict[str, Any] | None = None) -> str:
    """ "Case action: Assess" for a case action, "Signed in" for ``auth.login``;
    "" for an action without a label."""
    known = ACTIONS.get(action)
    if known is None:
        return ""
    case_action = (details or {}).get("action") if action == "case.action" else None
    if case_action:
        return gettext("%(what)s: %(action)s", what=known, action=label(case_action, "action"))
    return str(known)


def transition_label(action: str, details: dict[str, Any] | None) -> str:
    """ "In triage → Action required" for a case action; "" for anything else."""
    details = details or {}
    if action != "case.action" or not details.get("from"):
        return ""
    return f"{label(details['from'], 'status')} → {label(details.get('to'), 'status')}"


def target_label(target_type: str | None) -> str:
    if not target_type:
        return ""
    known = TARGET_TYPES.get(target_type)
    return str(known) if known is not None else target_type.replace("_", " ")

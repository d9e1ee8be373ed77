"""The words people read for the codes of casemgr.

Every state, resolution, action, classification, media type, site type, age
group, source and "where it was seen" of a case has a label here, in the
staff's language; so do the codes staff read elsewhere (roles, kinds of
organisation, of letter, of alert and of notification, the outbox's
statuses). Pages, flash messages, histories, filters, audit views and CSVs
meant for people show these; the API and the CSV columns meant for programs
keep the codes. A code this module does not know (a value written by an
older version) is shown as itself with its underscores made spaces, never as
an error.

The workflow's actions are labelled in casemgr/cases/workflow.py (pure
Python: marked with ``N_`` for the catalogue) and translated here, so that
a button, a flash message and a history line always say the same.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from casemgr.cases.fields import AgeGroup, Classification, MediaType, SiteType
from casemgr.cases.states import Resolution, Status
from casemgr.cases.workflow import RULES
from casemgr.domain import OrgKind, Role
from casemgr.i18n import remembered

STATUS: Mapping[str, LazyString] = {
    Status.NEW: _l("New"),
    Status.TRIAGE: _l("In triage"),
    Status.ACTION_REQUIRED: _l("Action required"),
    # Queued for the next scheduled notice run: not sent yet.
    Status.NOTICE_PENDING: _l("Notice queued"),
    Status.NOTICE_SENT: _l("Notice sent"),
    Status.FORWARDED: _l("Forwarded to partner"),
    Status.WITH_POLICE: _l("With police"),
    Status.CLOSED: _l("Closed"),
}

RESOLUTION: Mapping[str, LazyString] = {
    Resolution.TAKEDOWN_CONFIRMED: _l("Takedown confirmed"),
    Resolution.NOT_ILLEGAL: _l("Not illegal"),
    Resolution.OUT_OF_REMIT: _l("Out of remit"),
    Resolution.DUPLICATE: _l("Duplicate"),
    Resolution.CONTENT_UNAVAILABLE: _l("Content unavailable"),
}

ACTION: Mapping[str, LazyString] = {
    **{action.value: _l(rule.label) for action, rule in RULES.items()},
    # Recorded in a case's history beside the workflow's actions.
    "receive": _l("Report received"),
    "referral_sent": _l("Referral letter sent"),
    "reminder_sent": _l("Reminder sent"),
    "escalated": _l("Escalation letter sent"),
    "hold_review_due": _l("Police hold due for review"),
    "provider_response": _l("Provider answered"),
    # The removal check found something new (casemgr/checks/services.py).
    "removal_check": _l("Removal check"),
    # A provider's e-mail threaded into the case (casemgr/inbound).
    "provider_reply": _l("Reply from the provider"),
    # The partner hotline's status of its case changed (casemgr/partners).
    "partner_status": _l("Partner hotline's status"),
    # A note in the history (casemgr/cases/notes.py): not an event, not an action.
    "note": _l("Note"),
}

CLASSIFICATION: Mapping[str, LazyString] = {
    Classification.ILLEGAL_BASELINE: _l("Illegal: international baseline"),
    Classification.ILLEGAL_NATIONAL: _l("Illegal: national law only"),
    Classification.NOT_ILLEGAL: _l("Not illegal"),
    Classification.OUT_OF_REMIT: _l("Out of remit"),
}

MEDIA_TYPE: Mapping[str, LazyString] = {
    MediaType.IMAGE: _l("Images"),
    MediaType.VIDEO: _l("Videos"),
    MediaType.MIXED: _l("Images and videos"),
    MediaType.OTHER: _l("Other"),
}

SITE_TYPE: Mapping[str, LazyString] = {
    SiteType.WEBSITE: _l("Website"),
    SiteType.IMAGE_HOST: _l("Image host"),
    SiteType.FILE_HOST: _l("File host"),
    SiteType.FORUM: _l("Forum"),
    SiteType.SOCIAL: _l("Social network"),
    SiteType.BLOG: _l("Blog"),
    SiteType.OTHER: _l("Other"),
}

AGE_GROUP: Mapping[str, LazyString] = {
    AgeGroup.INFANT_TODDLER: _l("Infant or toddler"),
    AgeGroup.PREPUBESCENT: _l("Prepubescent"),
    AgeGroup.PUBESCENT: _l("Pubescent"),
}

SOURCE: Mapping[str, LazyString] = {
    "public": _l("Public report form"),
    "partner": _l("Partner hotline"),
    "police": _l("Police"),
    "phone": _l("Telephone"),
    "email": _l("E-mail"),
    "staff": _l("Entered by staff"),
}

SEEN_WHERE: Mapping[str, LazyString] = {
    "website": _l("On a website"),
    "social_media": _l("On social media"),
    "chat_app": _l("In a chat app"),
    "file_sharing": _l("On a file-sharing service"),
    "other": _l("Somewhere else"),
}

# --- codes staff read beyond a case

ROLE: Mapping[str, LazyString] = {
    Role.ANALYST: _l("Analyst"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.ADMIN: _l("Admin"),
    Role.SYSTEM: _l("System"),
    Role.PARTNER: _l("Partner hotline (API only)"),
}

ORG_KIND: Mapping[str, LazyString] = {
    OrgKind.HOTLINE: _l("Partner hotline"),
    OrgKind.POLICE: _l("Police"),
    OrgKind.HOSTING_PROVIDER: _l("Hosting provider"),
    OrgKind.REGISTRAR: _l("Registrar"),
}

LETTER_KIND: Mapping[str, LazyString] = {
    "notice": _l("Takedown notice"),
    "referral": _l("Referral"),
    "reminder": _l("Reminder"),
    "escalation": _l("Escalation"),
}

ALERT_KIND: Mapping[str, LazyString] = {
    "escalation": _l("Escalation"),
    "hold_review": _l("Police hold review"),
    "needs_provider": _l("No hosting provider for a notice"),
    "needs_recipient": _l("No recipient for a reminder"),
    "invalid_email": _l("Unusable e-mail address"),
    "delivery_failed": _l("E-mail failed"),
    "delivery_unknown": _l("E-mail outcome unknown"),
    "provider_declined": _l("Provider declined a notice"),
    "partner_problem": _l("Partner hotline's API"),
}

NOTIFICATION_KIND: Mapping[str, LazyString] = {
    "assigned": _l("Assigned to you"),
    "overdue": _l("Overdue"),
    "escalation": _l("Escalation"),
    "delivery_failed": _l("E-mail failed"),
    "provider_reply": _l("Reply from a provider"),
    "provider_response": _l("A provider answered a letter"),
}

# Mail that came in (casemgr/inbound).
MAIL_KIND: Mapping[str, LazyString] = {
    "reply": _l("Reply"),
    "auto_reply": _l("Automatic reply"),
    "bounce": _l("Bounce"),
}

MAIL_STATE: Mapping[str, LazyString] = {
    "matched": _l("Matched to its letter"),
    "unmatched": _l("Unmatched"),
    "attached": _l("Attached to a case"),
    "discarded": _l("Discarded"),
}

# Lower case: the outbox says them within sentences ("this one is sent").
OUTBOX_STATUS: Mapping[str, LazyString] = {
    "queued": _l("queued"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "unknown": _l("outcome unknown"),
    "cancelled": _l("cancelled"),
}

# Who reported a removal not verified yet (a RemovalSource).
REMOVAL_SOURCE: Mapping[str, LazyString] = {
    "provider": _l("the provider"),
    "check": _l("the removal check"),
    "partner": _l("the partner hotline"),
}

# Why a case waits to be routed again (an Attention).
ATTENTION: Mapping[str, LazyString] = {
    "not_hosted": _l("Provider says: not hosted there"),
    "cannot_remove": _l("Provider says: cannot remove"),
    "partner_closed": _l("Partner hotline closed it"),
}

# A provider's answer on a letter's response page (casemgr.responses).
PROVIDER_ANSWER: Mapping[str, LazyString] = {
    "removed": _l("Removed"),
    "not_hosted": _l("Not hosted by us"),
    "cannot_remove": _l("We cannot remove it"),
    "need_information": _l("We need more information"),
}

# What a removal check found (casemgr/checks/probe.py: Outcome).
CHECK_OUTCOME: Mapping[str, LazyString] = {
    "live": _l("still online"),
    "gone": _l("gone (404/410)"),
    "unresolvable": _l("host not found"),
    "other": _l("other answer"),
    "too_many_redirects": _l("too many redirects"),
    "error": _l("no answer"),
    "refused": _l("not checked"),
}

# The kinds a template names: ``case.status|label("status")``.
KINDS: Mapping[str, Mapping[str, LazyString]] = {
    "status": STATUS,
    "resolution": RESOLUTION,
    "action": ACTION,
    "classification": CLASSIFICATION,
    "media_type": MEDIA_TYPE,
    "site_type": SITE_TYPE,
    "age_group": AGE_GROUP,
    "source": SOURCE,
    "seen_where": SEEN_WHERE,
    "role": ROLE,
    "org_kind": ORG_KIND,
    "letter_kind": LETTER_KIND,
    "alert_kind": ALERT_KIND,
    "notification_kind": NOTIFICATION_KIND,
    "mail_kind": MAIL_KIND,
    "mail_state": MAIL_STATE,
    "outbox_status": OUTBOX_STATUS,
    "removal_source": REMOVAL_SOURCE,
    "attention": ATTENTION,
    "provider_answer": PROVIDER_ANSWER,
    "check_outcome": CHECK_OUTCOME,
}


def label(code: object, kind: str) -> str:
    """The label of ``code`` among ``kind``'s; "" for None."""
    if code is None or code == "":
        return ""
    known = KINDS[kind].get(str(code))
    if known is None:
        return str(code).replace("_", " ")
    return remembered((kind, str(code)), known.__str__)


def choices(kind: str) -> list[tuple[str, str]]:
    """(code, label) pairs for a select, in the order the codes are defined."""
    return [(str(code), str(text)) for code, text in KINDS[kind].items()]

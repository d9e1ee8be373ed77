"""The words people read for the codes a case carries.

Every state, resolution, action, classification, media type, site type, age
group, source and "where it was seen" has a label here, in the staff's
language. Pages, flash messages, histories, filters, audit views and CSVs
meant for people show these; the API and the CSV columns meant for programs
keep the codes. A code this module does not know (a value written by an
older version) is shown as itself with its underscores made spaces, never as
an error.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from casemgr.cases.fields import AgeGroup, Classification, MediaType, SiteType
from casemgr.cases.states import Action, Resolution, Status

STATUS: Mapping[str, LazyString] = {
    Status.NEW: _l("New"),
    Status.TRIAGE: _l("In triage"),
    Status.ACTION_REQUIRED: _l("Action required"),
    Status.NOTICE_PENDING: _l("Notice pending"),
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
    Action.ASSIGN: _l("Assign"),
    Action.ASSESS: _l("Assess"),
    Action.MARK_DUPLICATE: _l("Mark as duplicate"),
    Action.CLOSE_UNAVAILABLE: _l("Close: content unavailable"),
    Action.REQUEST_NOTICE: _l("Send notice to hosting provider"),
    Action.FORWARD_TO_PARTNER: _l("Forward to partner hotline"),
    Action.REFER_TO_POLICE: _l("Refer to police"),
    Action.RELEASE_HOLD: _l("Release police hold"),
    Action.CONFIRM_TAKEDOWN: _l("Confirm takedown"),
    Action.REOPEN: _l("Reopen"),
    Action.SEND_NOTICE: _l("Notice sent (scheduled run)"),
    # Recorded in a case's history beside the workflow's actions.
    "receive": _l("Received"),
    "referral_sent": _l("Referral letter sent"),
    "reminder_sent": _l("Reminder sent"),
    "escalated": _l("Escalated"),
    "hold_review_due": _l("Police hold due for review"),
    # A note in the history (casemgr/cases/notes.py): not an event, not an action.
    "note": _l("Note"),
}

CLASSIFICATION: Mapping[str, LazyString] = {
    Classification.ILLEGAL_BASELINE: _l("Illegal everywhere (baseline)"),
    Classification.ILLEGAL_NATIONAL: _l("Illegal under national law"),
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
    "staff": _l("Staff"),
}

SEEN_WHERE: Mapping[str, LazyString] = {
    "website": _l("On a website"),
    "social_media": _l("On social media"),
    "chat_app": _l("In a chat app"),
    "file_sharing": _l("On a file-sharing service"),
    "other": _l("Somewhere else"),
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
}


def label(code: object, kind: str) -> str:
    """The label of ``code`` among ``kind``'s; "" for None."""
    if code is None or code == "":
        return ""
    known = KINDS[kind].get(str(code))
    return str(known) if known is not None else str(code).replace("_", " ")


def choices(kind: str) -> list[tuple[str, str]]:
    """(code, label) pairs for a select, in the order the codes are defined."""
    return [(str(code), str(text)) for code, text in KINDS[kind].items()]

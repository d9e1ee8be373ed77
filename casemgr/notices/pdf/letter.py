"""What a notice letter says: the :class:`Letter`, its :class:`LetterLine` per URL,
and the fixed wording (titles and labels) a hotline may translate or replace.

Pure data, checked on construction; no reportlab. Its own module because the
notice run, the wording settings and the renderer (:mod:`.layout`) all use
it, and only the renderer needs the typesetting.

The letter lists URLs and metadata only. Nothing here describes the material:
the table says *that* a URL was assessed illegal and on which basis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

__all__ = [
    "DEFAULT_LABELS",
    "KINDS",
    "TITLES",
    "Letter",
    "LetterLine",
]

#: English titles by letter kind. A caller may override one with ``Letter.title``.
TITLES: Mapping[str, str] = {
    "notice": "Notice of illegal content and request for removal",
    "referral": "Referral",
    "reminder": "Reminder: removal overdue",
    "escalation": "Escalation: removal overdue",
}
KINDS = frozenset(TITLES)

#: The fixed wording of a letter, in English. ``Letter.labels`` overrides any of
#: them (a translation, or a hotline's own wording). Placeholders in braces are
#: filled with ``str.format``: keep them in a translation.
DEFAULT_LABELS: Mapping[str, str] = {
    "to": "To",
    "reference": "Reference",
    "date": "Date",
    "previous_reference": "Original notice",
    "reminder_number": "Reminder no.",
    "col_number": "#",
    "col_case": "Case reference",
    "col_url": "URL",
    "col_first_seen": "First seen",
    "col_basis": "Classification basis",
    # {count}: number of URLs
    "urls_below_one": "the URL listed below",
    "urls_below_many": "the {count} URLs listed below",
    "urls_above_one": "the URL listed above",
    "urls_above_many": "the {count} URLs listed above",
    # {reference}: Letter.previous_reference
    "previous_notice": "our notice {reference}",
    "previous_notice_unknown": "our earlier notice",
    # {hotline}: letterhead name; {urls}: urls_below_*; {previous}: previous_notice*
    "intro_notice": (
        "{hotline} runs a hotline to which members of the public report child sexual "
        "abuse material found online. Our analysts have assessed {urls}, hosted on your "
        "service, as illegal on the basis stated for each."
    ),
    "intro_referral": (
        "{hotline} refers to you {urls}. Our analysts have assessed each of them as "
        "illegal on the basis stated for each."
    ),
    "intro_reminder": (
        "We refer to {previous} concerning {urls}. We have not yet received "
        "confirmation that the content has been removed."
    ),
    "intro_escalation": (
        "We sent {previous} concerning {urls}, followed by reminders. We have had no "
        "answer and no confirmation that the content has been removed, so we are "
        "escalating the matter."
    ),
    # {number}: Letter.reminder_number; appended to intro_reminder when set
    "reminder_sentence": "This is reminder no. {number}.",
    # {deadline}: "2026-12-01 17:00 UTC+07" (in Letter.timezone); {urls}: urls_above_*
    "deadline_notice": "Please remove the content at {urls} by {deadline}.",
    "deadline_referral": "Please let us know by {deadline} what action has been taken.",
    "deadline_reminder": "Please remove the content at {urls} by {deadline}.",
    "deadline_escalation": "Please remove the content at {urls} by {deadline}.",
    # Above the letter's response link (Letter.response_url); {expires}: the
    # last day it works, in Letter.timezone
    "respond": (
        "You can tell us what you have done about each URL, without an account, on "
        "this page (the link works until {expires}):"
    ),
    # {page}, {pages}
    "footer_page": "Page {page} of {pages}",
}


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True)
class LetterLine:
    """One URL of a letter. ``classification_basis`` names the legal basis of the
    assessment (e.g. "Child sexual abuse material (international baseline)"),
    never what the material shows."""

    case_reference: str
    url: str
    first_seen: datetime
    classification_basis: str

    def __post_init__(self) -> None:
        _require_aware("first_seen", self.first_seen)


@dataclass(frozen=True)
class Letter:
    """What a letter says. ``legal_basis``, ``request`` and ``closing`` are the
    caller's text in the letter's language (blank lines separate paragraphs,
    single newlines break lines). ``labels`` overrides :data:`DEFAULT_LABELS`,
    ``title`` overrides :data:`TITLES`. Its times are printed in ``timezone``
    (the hotline's), each with its zone."""

    kind: str
    reference: str
    date: datetime
    recipient_name: str
    lines: Sequence[LetterLine]
    deadline: datetime | None
    legal_basis: str
    request: str
    recipient_address: str = ""
    recipient_email: str = ""
    closing: str = ""
    language: str = "en"
    previous_reference: str | None = None
    reminder_number: int | None = None
    title: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    timezone: tzinfo = UTC
    # The letter's own response page (casemgr.responses), and until when it works.
    response_url: str | None = None
    response_expires: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown letter kind {self.kind!r}; expected one of {sorted(KINDS)}")
        _require_aware("date", self.date)
        _require_aware("deadline", self.deadline)
        _require_aware("response_expires", self.response_expires)
        if (self.response_url is None) != (self.response_expires is None):
            raise ValueError("a response link needs its expiry, and the other way round")
        object.__setattr__(self, "lines", tuple(self.lines))
        if not self.lines:
            raise ValueError("a letter lists at least one URL")
        unknown = set(self.labels) - set(DEFAULT_LABELS)
        if unknown:
            raise ValueError(f"unknown labels: {sorted(unknown)}")

"""X-ARF v4 reports: one machine-readable report per URL of a takedown notice.

Providers that process abuse mail automatically read X-ARF (the ``xarf/xarf-spec``
JSON format) rather than a PDF. A notice or reminder e-mail to a hosting
provider carries, beside the PDF, one ``application/json`` attachment per URL,
``<notice-reference>-<n>.xarf.json`` where ``n`` is the URL's line in the
letter's table. :func:`report` builds one report (a plain dict),
:func:`attachments` the files of a letter, :func:`cases_of_letter` reads a
letter's cases in one query. The tests validate every report against the
vendored schemas (``tests/outbox/xarf_schemas``).

What a report says, and where each value comes from (category ``content``,
type ``csam``; nothing else is claimed):

- ``reporter`` and ``sender``: the hotline (``HOTLINE_NAME``, ``HOTLINE_EMAIL``
  and that address's domain). Never the person who reported the URL: nothing
  of a submission is read here.
- ``report_id``: a UUID (version 4 layout) derived from the hotline's domain,
  the letter's and the case's references, so every attempt to send the
  e-mail sends the same bytes and a provider can recognise a report it has
  seen.
- ``timestamp``: when the URL was first reported to the hotline (the case's
  ``received_at``, the "first seen" of the letter), in UTC.
- ``verified_at`` / ``verification_method``: when an analyst assessed the
  material at the URL (``assessed_at``), ``manual``; ``detection_method``:
  ``manual_review`` (every URL in a notice was classified by an analyst).
- ``url``: the case's URL, as a URI (characters outside ASCII in the path or
  query percent-encoded as UTF-8, RFC 3987 section 3.1; the host is already
  punycode). ``domain``: the host, when it is a domain name the schema
  accepts. ``source_identifier``: the hosting IP the analyst recorded, else
  the host. ``country_code``: the hosting country. ``hosting_provider``: the
  organisation the letter is addressed to.
- ``classification``: the schema's values are ``baseline`` (the INTERPOL
  baseline: illegal everywhere) and ``A1``/``A2``/``B1``/``B2`` (an age group
  crossed with what the material shows). ``illegal_baseline`` maps to
  ``baseline``. casemgr records nothing that would tell ``A1`` from ``A2``
  or ``B1`` from ``B2``, so those are never sent. ``illegal_national``
  (illegal under national law only) has no value in the schema that would be
  true, and ``classification`` is required: such a URL gets **no** X-ARF
  report (it stays in the PDF, the e-mail and the response page). Other
  classifications never reach a notice and get none either.
- ``media_type``: ``image``, ``video``, ``mixed`` as assessed; ``other`` is
  left out (it is not necessarily the schema's ``audio`` or ``text``).
  The age group is not sent: the ``csam`` type has no field for it.
- ``tags``: ``notice:<letter reference>`` and ``case:<case reference>``, lower
  case (the schema's tag pattern), for a provider's system to correlate.
- ``description``: the letter, the case and the response link (the schema
  has no field for a link), in English: a machine's field.

Not sent: hashes, NCMEC ids, ``content_removed`` (the hotline does not know it
yet), ``confidence``, any evidence (never the material), anything of the
reporter.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import idna
from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.cases.fields import Classification, MediaType
from casemgr.cases.models import Case
from casemgr.notices.models import NoticeCase

XARF_VERSION = "4.2.0"  # the version of the vendored schemas' own examples
CONTENT_TYPE = "application/json"
# Letters that carry reports: what asks a hosting provider to remove material.
LETTER_KINDS = frozenset({"notice", "reminder"})
RECIPIENT_KIND = "hosting_provider"

_CLASSIFICATIONS = {Classification.ILLEGAL_BASELINE.value: "baseline"}
_MEDIA_TYPES = {
    MediaType.IMAGE.value: "image",
    MediaType.VIDEO.value: "video",
    MediaType.MIXED.value: "mixed",
}
_TITLES = {"notice": "Takedown notice", "reminder": "Reminder"}
# The schema's patterns, checked here so a value it would refuse is left out.
_DOMAIN = re.compile(r"([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}")
_TAG_VALUE = re.compile(r"[a-z0-9][a-z0-9_+-]*")
_COUNTRY = re.compile(r"[A-Z]{2}")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# What RFC 3986 allows unencoded in a path and a query (pchar, "/" and "?"),
# besides the letters, digits and "_.-~" that quote() never encodes.
_PATH_SAFE = "/?:@!$&'()*+,;=%"
MAX_DESCRIPTION = 1000  # the schema's maxLength
MAX_ORG = 200


@dataclass(frozen=True)
class Hotline:
    """The reporter and sender of every report."""

    name: str
    email: str

    @property
    def contact(self) -> dict[str, str]:
        domain = self.email.rsplit("@", 1)[-1].strip().lower()
        if not domain.isascii():
            domain = idna.encode(domain, uts46=True).decode()
        return {"org": self.name[:MAX_ORG], "contact": self.email, "domain": domain}


@dataclass(frozen=True)
class LetterFacts:
    """What a report takes from the letter."""

    kind: str
    reference: str
    recipient_kind: str
    recipient_name: str
    response_url: str | None = None

    @property
    def carries_reports(self) -> bool:
        return self.kind in LETTER_KINDS and self.recipient_kind == RECIPIENT_KIND


@dataclass(frozen=True)
class CaseFacts:
    """What a report takes from one case of the letter (never its submission)."""

    reference: str
    url: str
    host: str
    classification: str | None
    media_type: str | None
    hosting_country: str | None
    hosting_ip: str | None
    received_at: datetime
    assessed_at: datetime | None


_CASE_COLUMNS = (
    Case.reference,
    Case.url,
    Case.host,
    Case.classification,
    Case.media_type,
    Case.hosting_country,
    Case.hosting_ip,
    Case.received_at,
    Case.assessed_at,
)


def cases_of_letter(session: Session, notice_id: int) -> list[CaseFacts]:
    """The cases of a letter in the order of its table (by case id), in one query."""
    rows = session.execute(
        select(*_CASE_COLUMNS)
        .join(NoticeCase, NoticeCase.case_id == Case.id)
        .where(NoticeCase.notice_id == notice_id)
        .order_by(Case.id)
    )
    return [CaseFacts(*row) for row in rows]


def report(letter: LetterFacts, case: CaseFacts, *, hotline: Hotline) -> dict | None:
    """The X-ARF v4 ``content``/``csam`` report of one URL of ``letter``; None
    when the case's classification has no true value in the schema (see the
    module's docstring) or the letter is not one that carries reports."""
    classification = _CLASSIFICATIONS.get(case.classification or "")
    if classification is None or not letter.carries_reports:
        return None
    contact = hotline.contact
    host = case.host.lower()
    data: dict = {
        "xarf_version": XARF_VERSION,
        "report_id": _report_id(contact["domain"], letter.reference, case.reference),
        "timestamp": _utc(case.received_at),
        "reporter": contact,
        "sender": dict(contact),
        "source_identifier": case.hosting_ip or host,
        "category": "content",
        "type": "csam",
        "url": as_uri(case.url),
        "classification": classification,
        "detection_method": "manual_review",
    }
    if _DOMAIN.fullmatch(host):
        data["domain"] = host
    if case.media_type in _MEDIA_TYPES:
        data["media_type"] = _MEDIA_TYPES[case.media_type]
    if case.assessed_at is not None:
        data["verified_at"] = _utc(case.assessed_at)
        data["verification_method"] = "manual"
    if case.hosting_country and _COUNTRY.fullmatch(case.hosting_country):
        data["country_code"] = case.hosting_country
    if letter.recipient_name.strip():
        data["hosting_provider"] = " ".join(letter.recipient_name.split())
    tags = [
        f"{name}:{value.lower()}"
        for name, value in (("notice", letter.reference), ("case", case.reference))
        if _TAG_VALUE.fullmatch(value.lower())
    ]
    if tags:
        data["tags"] = tags
    data["description"] = _description(letter, case)
    return data


def attachments(
    letter: LetterFacts, cases: Sequence[CaseFacts], *, hotline: Hotline
) -> list[tuple[str, bytes]]:
    """``(filename, JSON bytes)`` of each URL's report; ``n`` in
    ``<reference>-<n>.xarf.json`` is the URL's line in the letter, so a URL
    without a report leaves a gap rather than shifting the others."""
    files = []
    for number, case in enumerate(cases, start=1):
        data = report(letter, case, hotline=hotline)
        if data is not None:
            files.append((f"{letter.reference}-{number}.xarf.json", to_json(data)))
    return files


def to_json(data: dict) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()


def as_uri(url: str) -> str:
    """``url`` with what a URI may not hold in its path and query percent-encoded.

    Normalised URLs (``casemgr.intake.urls``) have an ASCII scheme and host and
    a path that starts with ``/``; the path and query are kept as reported, so
    they may hold characters outside ASCII, which browsers send UTF-8 encoded.
    """
    start = url.find("://") + 3 if "://" in url else 0
    cut = min((i for i in (url.find("/", start), url.find("?", start)) if i >= 0), default=-1)
    if cut < 0:
        return url
    rest = _LONE_PERCENT.sub("%25", url[cut:])
    return url[:cut] + quote(rest, safe=_PATH_SAFE)


def _description(letter: LetterFacts, case: CaseFacts) -> str:
    title = _TITLES.get(letter.kind, letter.kind)
    text = f"{title} {letter.reference}, case {case.reference}."
    if letter.response_url:
        text += (
            " Tell us what was done about this URL (removed, not hosted by you, cannot"
            f" remove, need more information), no account needed: {letter.response_url}"
        )
    text += (
        " We ask you to remove the content at this URL, or disable access to it, without"
        " delay, and to preserve the related data for the police."
    )
    return text[:MAX_DESCRIPTION]


def _report_id(domain: str, letter_reference: str, case_reference: str) -> str:
    digest = hashlib.sha256(f"{domain}\n{letter_reference}\n{case_reference}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

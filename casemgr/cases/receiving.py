"""Receiving reports: a submission and one case per URL, however a report comes in.

The public form, the API, staff entering a report by hand and the demo all
hand a ``ReportInput`` to :func:`receive_report`. Apart from acting on a case
(services.py) because receiving creates cases in bulk through Core, outside
the workflow's transitions, and because it owns the numbering of references
(the counters the notices' numbers come from too). Named ``receiving`` rather
than ``intake``: ``casemgr.intake`` is the URL normalisation every way in uses.

Functions take the session and ``now`` and flush, never commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as sa_case
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from casemgr.auth.models import User
from casemgr.cases import workflow
from casemgr.cases.models import Case, CaseEvent, ReferenceCounter, Submission
from casemgr.cases.states import Status
from casemgr.crypto import ContactCipher
from casemgr.database import dialect_insert
from casemgr.errors import ValidationFailed
from casemgr.intake.urls import host_of
from casemgr.settings import Timings

SOURCES = ("public", "partner", "police", "phone", "email", "staff")
# What a client of the API may say a report came from: "public" is the public
# form's alone (it promises the reporter no IP address or user agent is kept).
API_SOURCES = tuple(source for source in SOURCES if source != "public")
# Where the reporter saw the URL (optional): what the public form and the API offer.
SEEN_WHERE = ("website", "social_media", "chat_app", "file_sharing", "other")
MAX_DESCRIPTION_LENGTH = 5000
MAX_EXTERNAL_REFERENCE_LENGTH = 120
MAX_CONTACT_LENGTH = 500


# --- references


def next_number(session: Session, counter: str) -> int:
    """The next value of a named counter, safe across processes."""
    return reserve_numbers(session, {counter: 1})[counter]


def reserve_numbers(session: Session, amounts: Mapping[str, int]) -> dict[str, int]:
    """Advance each named counter by its amount in one statement; return the new values.

    The new value is the last number reserved: advancing ``case-2026`` by 3
    to 45 reserves 43, 44 and 45. The UPDATE takes row locks on PostgreSQL
    (a write lock on SQLite), so two processes never get the same number; it
    locks the rows in the order of their primary key, so two reservations of
    the same counters cannot deadlock. Rows are created on first use. Core,
    not the ORM: this runs for every report received.
    """
    names = sorted(amounts)
    statement = (
        update(ReferenceCounter)
        .where(ReferenceCounter.name.in_(names))
        .values(
            value=ReferenceCounter.value
            + sa_case({name: amounts[name] for name in names}, value=ReferenceCounter.name)
        )
        .returning(ReferenceCounter.name, ReferenceCounter.value)
    )
    connection = session.connection()
    values: dict[str, int] = {name: value for name, value in connection.execute(statement)}
    missing = [name for name in names if name not in values]
    if missing:
        connection.execute(
            dialect_insert(connection)(ReferenceCounter)
            .values([{"name": name, "value": 0} for name in missing])
            .on_conflict_do_nothing(index_elements=["name"])
        )
        more = connection.execute(statement.where(ReferenceCounter.name.in_(missing)))
        values.update((name, value) for name, value in more)
    return values


def url_hash(normalised_url: str) -> str:
    return hashlib.sha256(normalised_url.encode("utf-8")).hexdigest()


# --- receiving reports


@dataclass
class ReportInput:
    """A report as any way in hands it over, URLs already normalised."""

    urls: Sequence[str]
    source: str
    description: str = ""
    seen_where: str | None = None
    external_reference: str | None = None
    reporter_contact: str | None = None
    feedback_requested: bool = False
    # The language the report was made in (the public form's page, or a
    # partner's word for it): one of ``languages``, or None when not known.
    language: str | None = None

    def validate(self, max_urls: int, *, languages: Collection[str] = ()) -> None:
        """Raises ValidationFailed naming each bad field; ``language`` must be
        one of ``languages`` (the configured LANGUAGES) when given."""
        errors: dict[str, list[str]] = {}
        if not self.urls:
            errors["urls"] = ["at least one URL is required"]
        elif len(self.urls) > max_urls:
            errors["urls"] = [f"at most {max_urls} URLs can be reported at once"]
        if self.source not in SOURCES:
            errors["source"] = [f"must be one of: {', '.join(SOURCES)}"]
        if self.seen_where is not None and self.seen_where not in SEEN_WHERE:
            errors["seen_where"] = [f"must be one of: {', '.join(SEEN_WHERE)}"]
        if self.language is not None and self.language not in languages:
            errors["language"] = [f"must be one of: {', '.join(languages)}"]
        for name, value, limit in (
            ("description", self.description, MAX_DESCRIPTION_LENGTH),
            ("external_reference", self.external_reference, MAX_EXTERNAL_REFERENCE_LENGTH),
            ("reporter_contact", self.reporter_contact, MAX_CONTACT_LENGTH),
        ):
            if value and len(value) > limit:
                errors[name] = [f"must be at most {limit} characters"]
            elif value and any(ord(ch) < 32 and ch not in "\r\n\t" for ch in value):
                errors[name] = ["must not contain control characters"]
        if errors:
            raise ValidationFailed(errors)


@dataclass
class ReceiveResult:
    submission: Submission
    created: bool  # False: an idempotent retry returned the earlier submission


def receive_report(
    session: Session,
    report: ReportInput,
    *,
    now: datetime,
    timings: Timings,
    cipher: ContactCipher,
    reference_prefix: str,
    max_urls: int = 50,
    languages: Collection[str] = (),
    submitted_by: User | None = None,
) -> ReceiveResult:
    """Record a report: one submission, one case per distinct URL.

    A URL that has an open case already becomes a case closed as its
    duplicate. A repeated ``external_reference`` from the same submitter
    returns the first submission unchanged. A ``language`` must be one of
    ``languages``.
    """
    report.validate(max_urls, languages=languages)
    if report.external_reference and submitted_by is not None:
        earlier = session.scalar(
            select(Submission).where(
                Submission.submitted_by_id == submitted_by.id,
                Submission.external_reference == report.external_reference,
            )
        )
        if earlier is not None:
            return ReceiveResult(earlier, created=False)

    urls = list(dict.fromkeys(report.urls))  # collapse repeats, keep order
    # One look-up for every URL: the oldest open case of each, if any.
    originals = open_originals(session, urls)
    year = now.year
    numbers = reserve_numbers(session, {f"submission-{year}": 1, f"case-{year}": len(urls)})
    first_case_number = numbers[f"case-{year}"] - len(urls) + 1

    # Three INSERTs whatever the number of URLs, through Core: this runs for
    # every report, and the ORM's unit of work costs more than the SQL does.
    (submission,) = _insert_persistent(
        session,
        Submission,
        [
            {
                "reference": f"{reference_prefix}-S-{year}-{numbers[f'submission-{year}']:06d}",
                "source": report.source,
                "received_at": now,
                "description": (report.description or "").strip(),
                "seen_where": report.seen_where,
                "external_reference": report.external_reference or None,
                "submitted_by_id": submitted_by.id if submitted_by else None,
                "reporter_contact": cipher.encrypt(report.reporter_contact.strip())
                if report.reporter_contact and report.reporter_contact.strip()
                else None,
                "feedback_requested": bool(report.feedback_requested and report.reporter_contact),
                "contact_purged_at": None,
                "language": report.language,
            }
        ],
    )
    created = _insert_cases(
        session,
        submission,
        urls,
        originals,
        first_case_number=first_case_number,
        now=now,
        timings=timings,
        reference_prefix=reference_prefix,
        source=report.source,
        actor_id=submitted_by.id if submitted_by else None,
    )
    set_committed_value(submission, "cases", created)
    return ReceiveResult(submission, created=True)


def open_originals(session: Session, urls: Sequence[str]) -> dict[str, Any]:
    """The oldest open case of each of ``urls`` that has one (the duplicate rule)."""
    originals: dict[str, Any] = {}
    for row in session.connection().execute(
        select(Case.id, Case.reference, Case.url)
        .where(Case.url_hash.in_({url_hash(url) for url in urls}), Case.status != Status.CLOSED)
        .order_by(Case.id)
    ):
        originals.setdefault(row.url, row)
    return originals


def add_cases(
    session: Session,
    submission: Submission,
    urls: Sequence[str],
    *,
    now: datetime,
    timings: Timings,
    reference_prefix: str,
    source: str,
) -> list[Case]:
    """More URLs for an existing ``submission`` (the reporter's additions): one
    new case each, numbered and checked for open duplicates as a new report's.
    ``urls`` are normalised already and not yet cases of the submission."""
    urls = list(dict.fromkeys(urls))
    if not urls:
        return []
    year = now.year
    last = reserve_numbers(session, {f"case-{year}": len(urls)})[f"case-{year}"]
    return _insert_cases(
        session,
        submission,
        urls,
        open_originals(session, urls),
        first_case_number=last - len(urls) + 1,
        now=now,
        timings=timings,
        reference_prefix=reference_prefix,
        source=source,
        actor_id=None,
        added=True,
    )


def _insert_cases(
    session: Session,
    submission: Submission,
    urls: Sequence[str],
    originals: Mapping[str, Any],
    *,
    first_case_number: int,
    now: datetime,
    timings: Timings,
    reference_prefix: str,
    source: str,
    actor_id: int | None,
    added: bool = False,
) -> list[Case]:
    """One case per URL and its ``receive`` event: two INSERTs whatever the count."""
    year = now.year
    rows = []
    for number, url in enumerate(urls, first_case_number):
        original = originals.get(url)
        status, resolution = workflow.initial_state(has_open_duplicate=original is not None)
        rows.append(
            {
                "reference": f"{reference_prefix}-{year}-{number:06d}",
                "submission_id": submission.id,
                "url": url,
                "url_hash": url_hash(url),
                "host": host_of(url),
                "status": status.value,
                "resolution": resolution.value if resolution else None,
                "duplicate_of_id": original.id if original else None,
                "police_hold": False,
                "received_at": now,
                "assessment_due_at": now + timings.assessment_due,
                "due_at": None if original else now + timings.assessment_due,
                "closed_at": now if original else None,
                "reminder_count": 0,
                "updated_at": now,
                "version": 1,
            }
        )
    created = _insert_persistent(session, Case, rows)
    session.connection().execute(
        insert(CaseEvent.__table__),
        [
            {
                "case_id": case.id,
                "actor_id": actor_id,
                "action": "receive",
                "from_status": None,
                "to_status": case.status,
                "fields": {"source": source, "submission": submission.reference}
                | ({"added_by_reporter": True} if added else {})
                | (
                    {"duplicate_of": originals[case.url].reference} if case.url in originals else {}
                ),
                "created_at": now,
            }
            for case in created
        ],
    )
    return created


def _insert_persistent(session: Session, model: type, rows: list[dict[str, Any]]) -> list:
    """INSERT ``rows`` with Core and return them as persistent ORM objects.

    Each row must hold every column but the id. The objects are built from
    the rows and the returned ids and put in the session as if just loaded,
    so nothing is inserted twice and reading them costs no query.
    """
    table = model.__table__
    ids = session.connection().execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    objects = []
    for row, (new_id,) in zip(rows, ids, strict=True):
        instance = model(id=new_id, **row)
        make_transient_to_detached(instance)
        session.add(instance)
        objects.append(instance)
    return objects

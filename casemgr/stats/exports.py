"""The CSV downloads, as text: the figures of a period, and its cases one row each.

Queries only: nothing here writes. Who exported what is recorded by
:mod:`casemgr.stats.operations` (``export_cases_csv``, ``record_export``)
before these rows go out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session, aliased

from casemgr.auth.models import User
from casemgr.cases.labels import KINDS, label
from casemgr.cases.models import Case, Submission
from casemgr.countries import ISO_COUNTRY_CODES, country_name
from casemgr.directory.models import Organisation
from casemgr.localtime import local, zone_name
from casemgr.stats.cohorts import Cohorts
from casemgr.stats.figures import Figures
from casemgr.stats.figures_json import figures_as_dict
from casemgr.stats.selection import Period, StatsFilter

CASE_COLUMNS = (
    "reference",
    "submission",
    "source",
    "received_at",
    "status",
    "resolution",
    "classification",
    "media_type",
    "site_type",
    "age_group",
    "hosting_country",
    "provider",
    "assignee",
    "assessed_at",
    "first_action_at",
    "notice_sent_at",
    "removed_at",
    "closed_at",
    "due_at",
    "overdue",
    # The zone of the row's times (HOTLINE_TIMEZONE), written as a spreadsheet
    # reads them: "2026-12-04 21:15:00".
    "time_zone",
)
URL_COLUMNS = ("url", "host", "hosting_ip")
# For people: the plain words of the coded columns, in the exporting staff
# member's language. They come last, so every column above keeps its place.
LABEL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (label column, the code column it describes, kind in casemgr.cases.labels)
    ("source_label", "source", "source"),
    ("status_label", "status", "status"),
    ("resolution_label", "resolution", "resolution"),
    ("classification_label", "classification", "classification"),
    ("media_type_label", "media_type", "media_type"),
    ("site_type_label", "site_type", "site_type"),
    ("age_group_label", "age_group", "age_group"),
    ("hosting_country_name", "hosting_country", "country"),
)


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --- the figures


def figures_csv(figures: Figures) -> str:
    """The figures as CSV rows ``figure,value`` (names as in the JSON, dotted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["figure", "value"])
    for name, value in _flatten(figures_as_dict(figures), ""):
        writer.writerow([safe_cell(name), safe_cell("" if value is None else value)])
    return buffer.getvalue()


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                # Lists of rows: name each row by its first field ("by_month.2026-01.count").
                first, *rest = item.items()
                label = "none" if first[1] is None else first[1]
                for key, inner in rest:
                    yield from _flatten(inner, f"{prefix}.{label}.{key}")
            else:
                yield prefix, item
    else:
        yield prefix, value


# --- the cases


def count_cases(session: Session, period: Period, filters: StatsFilter) -> int:
    """How many rows :func:`cases_csv` has for this selection (its header aside)."""
    conditions = Cohorts.of(period, filters).received_only
    return session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0


def cases_csv(
    session: Session,
    period: Period,
    filters: StatsFilter,
    *,
    include_urls: bool,
    now: datetime,
    timezone: tzinfo = UTC,
    language: str = "en",
) -> Iterator[str]:
    """The cases received in ``period`` as CSV, a chunk per row (the header first).

    Never holds reporter contact details or the reporter's notes; the URL, host
    and hosting IP only with ``include_urls`` (the caller decides who may).
    Times are on the wall clock of ``timezone``, named in the ``time_zone`` column.
    The codes keep their columns; ``LABEL_COLUMNS`` follow with their plain
    words (in ``language`` for country names, the request's for the rest).
    """
    provider = aliased(Organisation)
    assignee = aliased(User)
    columns = [
        Case.reference,
        Submission.reference,
        Submission.source,
        Case.received_at,
        Case.status,
        Case.resolution,
        Case.classification,
        Case.media_type,
        Case.site_type,
        Case.age_group,
        Case.hosting_country,
        provider.name,
        assignee.name,
        Case.assessed_at,
        Case.first_action_at,
        Case.notice_sent_at,
        Case.removed_at,
        Case.closed_at,
        Case.due_at,
        sql_case((Case.overdue_at(now), "yes"), else_="no"),
        literal(zone_name(timezone)),
    ]
    if include_urls:
        columns += [Case.url, Case.host, Case.hosting_ip]
    query = (
        select(*columns)
        .join(Submission, Submission.id == Case.submission_id)
        .outerjoin(provider, provider.id == Case.provider_id)
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .where(*Cohorts.of(period, filters).received_only)
        .order_by(Case.received_at, Case.id)
        .execution_options(yield_per=1000)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(
        CASE_COLUMNS
        + (URL_COLUMNS if include_urls else ())
        + tuple(name for name, _, _ in LABEL_COLUMNS)
    )
    yield take()
    described = [
        (CASE_COLUMNS.index(code), words(kind, language)) for _, code, kind in LABEL_COLUMNS
    ]
    for row in session.execute(query):
        cells = [
            f"{local(v, timezone):%Y-%m-%d %H:%M:%S}" if isinstance(v, datetime) else v for v in row
        ]
        cells += [
            "" if row[index] is None else known.get(row[index]) or str(row[index])
            for index, known in described
        ]
        writer.writerow([safe_cell(v) for v in cells])
        yield take()


def words(kind: str, language: str) -> dict[str, str]:
    """Every code of ``kind`` with its label, looked up once per export."""
    if kind == "country":
        return {code: country_name(code, language) for code in ISO_COUNTRY_CODES}
    return {code: label(code, kind) for code in KINDS[kind]}

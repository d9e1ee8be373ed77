"""The figures hotlines publish, computed in the database.

``compute_figures`` answers every figure of a period with a fixed number of
aggregate queries (none loads cases into Python); ``figures_as_dict`` is the
one serialisation that the API, the CSV of figures and the CLI share.

What each figure counts (``P`` is the period, whole UTC days, ``now`` the
moment the figures are made):

- the **received cohort**: cases (reported URLs) whose ``received_at`` is in
  ``P``, narrowed by the filters (hosting country, provider). Reports,
  unique URLs, every count by category, the times from receipt, the open
  cases and the per-analyst figures describe this cohort, as it stands at
  ``now``;
- the **notified cohort**: cases whose notice went out (``notice_sent_at``)
  in ``P``. Time from notice to removal, the share removed within 1, 3 and 7
  days and the time-to-removal distribution describe it. Material removed
  before the notice arrived counts as removed after 0 seconds;
- **removed within N days**: ``removed_at - notice_sent_at <= N * 24 h``. A
  notice younger than N days whose URL is not removed yet is left out of that
  share (it may still make it): the share is ``removed / measurable``, where
  measurable = removed within N days, or notice sent at least N days before
  ``now``;
- **time to assessment** uses the case's current assessment (a case reopened
  and assessed again counts its latest one), attributed to the person who
  recorded it (``Case.assessed_by_id``, written by the assess action);
- medians and 90th percentiles: linear interpolation, defined in
  ``casemgr/stats/sql.py``; durations are whole seconds.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    case,
    false,
    func,
    not_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from casemgr.audit.services import record
from casemgr.auth.models import User
from casemgr.cases.fields import ILLEGAL, Classification, SiteType
from casemgr.cases.models import Case, Submission
from casemgr.cases.workflow import OPEN_STATUSES, Resolution, Status
from casemgr.countries import is_country_code
from casemgr.directory.models import Organisation
from casemgr.domain import OrgKind
from casemgr.errors import ValidationFailed
from casemgr.stats.sql import (
    Summary,
    percentiles,
    seconds_between,
    tune_for_reporting,
    utc_date,
)

DAY = 86400
REMOVAL_WINDOWS_DAYS = (1, 3, 7)
HEADLINE_WINDOW_DAYS = 3  # the hotline network's headline figure
# Time from notice to removal, in buckets: (label, upper bound in seconds, inclusive).
REMOVAL_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("≤ 1 day", DAY),
    ("1–3 days", 3 * DAY),
    ("3–7 days", 7 * DAY),
    ("7–14 days", 14 * DAY),
    ("14–30 days", 30 * DAY),
    ("> 30 days", None),
)
NOT_REMOVED = "not yet removed"
# Periods up to this long also get counts per day.
MAX_DAYS_FOR_DAILY = 92
OPEN_STATE_ORDER: tuple[Status, ...] = tuple(s for s in Status if s in OPEN_STATUSES)

# --- periods and filters


@dataclass(frozen=True)
class Period:
    """Whole UTC days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1))

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def end_at(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self == Period.month(self.start.year, self.start.month)

    @property
    def label(self) -> str:
        if self.is_month:
            return self.start.strftime("%B %Y")
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    def months(self, until: date) -> list[str]:
        """'YYYY-MM' of every month of the period up to ``until``."""
        last = min(self.end, until)
        year, month, out = self.start.year, self.start.month, []
        while (year, month) <= (last.year, last.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def day_list(self, until: date) -> list[str]:
        last = min(self.end, until)
        return [
            (self.start + timedelta(days=n)).isoformat()
            for n in range(max(0, (last - self.start).days + 1))
        ]


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _date(raw: str) -> date:
    text = raw.strip()
    if not _DATE.fullmatch(text):
        raise ValueError(f"{raw!r} is not a date: use YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} is not a date that exists") from None


def default_period(today: date) -> Period:
    """The last 12 months: from the first day of the month 11 months ago to today."""
    year, month = today.year, today.month - 11
    if month < 1:
        year, month = year - 1, month + 12
    return Period(date(year, month, 1), today)


def parse_period(
    raw_from: str | None,
    raw_to: str | None,
    *,
    today: date,
    required: bool = False,
    names: tuple[str, str] = ("from", "to"),
) -> Period:
    """A period from two YYYY-MM-DD strings; raises ValidationFailed keyed by ``names``.

    Missing dates default to the last 12 months (unless ``required``). A
    period may end in the future (its figures stop at now) but not start there.
    """
    from_name, to_name = names
    errors: dict[str, list[str]] = {}
    parsed: dict[str, date] = {}
    for name, raw in ((from_name, raw_from), (to_name, raw_to)):
        if raw is None or not raw.strip():
            if required:
                errors[name] = ["is required (YYYY-MM-DD)"]
            continue
        try:
            parsed[name] = _date(raw)
        except ValueError as exc:
            errors[name] = [str(exc)]
    start, end = parsed.get(from_name), parsed.get(to_name)
    if start is not None and start > today:
        errors[from_name] = [
            f"{start.isoformat()} is in the future: there are figures up to today, "
            f"{today.isoformat()}"
        ]
    if not errors:
        fallback = default_period(min(end, today) if end else today)
        start = start or fallback.start
        end = end or today
        if end < start:
            errors[to_name] = [
                f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})"
            ]
    if errors:
        raise ValidationFailed(errors)
    return Period(start, end)


def parse_month(raw: str | None, *, today: date, name: str = "month") -> Period:
    """The calendar month named ``YYYY-MM``; the current month is allowed (so far)."""
    match = _MONTH.fullmatch((raw or "").strip())
    if not match:
        raise ValidationFailed({name: [f"{raw!r} is not a month: use YYYY-MM, e.g. 2026-10"]})
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1:
        raise ValidationFailed({name: [f"{raw.strip()} is not a month that exists"]})
    period = Period.month(year, month)
    if period.start > today:
        raise ValidationFailed(
            {name: [f"{raw.strip()} has not started yet (today is {today.isoformat()})"]}
        )
    return period


@dataclass(frozen=True)
class StatsFilter:
    hosting_country: str | None = None
    provider_id: int | None = None

    def conditions(self) -> list:
        out = []
        if self.hosting_country:
            out.append(Case.hosting_country == self.hosting_country)
        if self.provider_id is not None:
            out.append(Case.provider_id == self.provider_id)
        return out


def parse_filter(
    session: Session, raw_country: str | None, raw_provider: str | None
) -> StatsFilter:
    """Filters from query parameters ``country`` and ``provider``; ValidationFailed."""
    errors: dict[str, list[str]] = {}
    country = (raw_country or "").strip().upper() or None
    if country and not is_country_code(country):
        errors["country"] = ["must be an ISO 3166-1 alpha-2 country code, e.g. KH"]
    provider_id = None
    text = (raw_provider or "").strip()
    if text:
        organisation = (
            session.get(Organisation, int(text)) if text.isdigit() and len(text) < 10 else None
        )
        if organisation is None or organisation.kind != OrgKind.HOSTING_PROVIDER:
            errors["provider"] = ["must be the id of a hosting provider"]
        else:
            provider_id = organisation.id
    if errors:
        raise ValidationFailed(errors)
    return StatsFilter(country, provider_id)


def parse_selection(
    session: Session, args: Mapping[str, str], *, today: date, required: bool = False
) -> tuple[Period, StatsFilter]:
    """Period and filters from the parameters ``from``, ``to``, ``country`` and
    ``provider``; one ValidationFailed naming every bad parameter."""
    errors: dict[str, list[str]] = {}
    period = filters = None
    try:
        period = parse_period(args.get("from"), args.get("to"), today=today, required=required)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        filters = parse_filter(session, args.get("country"), args.get("provider"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(errors)
    return period, filters


# --- the figures


@dataclass(frozen=True)
class RemovalShare:
    days: int
    removed: int  # removed within ``days`` of the notice
    measurable: int  # removed within ``days``, or notice at least ``days`` old

    @property
    def share(self) -> float | None:
        return self.removed / self.measurable if self.measurable else None


@dataclass(frozen=True)
class AnalystFigures:
    user_id: int | None
    name: str
    assessed: int
    median_seconds: float | None


@dataclass(frozen=True)
class ProviderCount:
    provider_id: int | None
    name: str | None
    count: int


TIME_LABELS = {
    "receipt_to_assessment": "Receipt → assessment",
    "receipt_to_first_action": "Receipt → first action",
    "receipt_to_removal": "Receipt → removal",
    "notice_to_removal": "Notice → removal",
}


@dataclass
class Figures:
    period: Period
    filters: StatsFilter
    as_of: datetime
    reports_received: int = 0  # submissions
    urls_reported: int = 0  # cases
    unique_urls: int = 0
    assessed: int = 0
    illegal: int = 0
    closed_without_action: int = 0
    by_classification: list[tuple[str | None, int]] = field(default_factory=list)
    by_resolution: list[tuple[str | None, int]] = field(default_factory=list)
    by_site_type: list[tuple[str | None, int]] = field(default_factory=list)
    by_hosting_country: list[tuple[str | None, int]] = field(default_factory=list)
    by_provider: list[ProviderCount] = field(default_factory=list)
    by_month: list[tuple[str, int]] = field(default_factory=list)
    by_day: list[tuple[str, int]] | None = None
    times: dict[str, Summary] = field(default_factory=dict)
    notified: int = 0
    removed_after_notice: int = 0
    removal_within: list[RemovalShare] = field(default_factory=list)
    removal_distribution: list[tuple[str, int]] = field(default_factory=list)
    open_total: int = 0
    overdue: int = 0
    open_by_state: list[tuple[str, int]] = field(default_factory=list)
    per_analyst: list[AnalystFigures] | None = None

    @property
    def empty(self) -> bool:
        return self.urls_reported == 0 and self.notified == 0

    @property
    def headline_share(self) -> RemovalShare | None:
        for share in self.removal_within:
            if share.days == HEADLINE_WINDOW_DAYS:
                return share
        return None


def _count_if(condition) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def compute_figures(
    session: Session,
    period: Period,
    filters: StatsFilter | None = None,
    *,
    now: datetime,
    include_analysts: bool = False,
) -> Figures:
    """Every figure of ``period`` as of ``now``; per-analyst figures on request.

    Five aggregate queries (six with the analysts), each one pass over the
    cases of the period: every count that has a known set of values at once
    (conditional sums), the distinct URLs, countries with providers, days,
    and all four durations' percentiles together.
    """
    filters = filters or StatsFilter()
    cohorts = _Cohorts(
        received=and_(Case.received_at >= period.start_at, Case.received_at < period.end_at),
        notified=and_(Case.notice_sent_at >= period.start_at, Case.notice_sent_at < period.end_at),
        filters=filters.conditions(),
    )
    tune_for_reporting(session)
    figures = Figures(period=period, filters=filters, as_of=now)
    _counts(session, figures, cohorts, now)
    figures.reports_received, figures.unique_urls = _distinct_counts(session, cohorts, period)
    _hosting(session, figures, cohorts)
    _calendar(session, figures, cohorts, now)
    _times(session, figures, cohorts)
    if include_analysts:
        figures.per_analyst = _per_analyst(session, cohorts)
    return figures


@dataclass(frozen=True)
class _Branch:
    """Whether a row is in each cohort, as the SQL of one branch of
    :meth:`_Cohorts.either` sees it: a constant where the branch's WHERE decides."""

    received: Any
    notified: Any


@dataclass(frozen=True)
class _Cohorts:
    received: Any  # received in the period
    notified: Any  # notice sent in the period
    filters: list

    @property
    def received_only(self) -> list:
        return [self.received, *self.filters]

    def either(self, columns: Callable[[_Branch], Sequence[Any]]) -> Any:
        """``columns(branch)`` for every case of either cohort, each case once:
        the received cohort, then the notified cases received before the period.

        Two branches rather than one OR: each can use its own index, so a pass
        reads the period's cases, not the whole table. And each branch knows
        part of the answer: every row of the first is received in the period,
        every row of the second notified in it and not received, so those tests
        are constants there (``and_`` drops a true one, and the database folds
        the rest away) rather than work for every row.
        """
        first = _Branch(received=true(), notified=self.notified)
        second = _Branch(received=false(), notified=true())
        return union_all(
            select(*columns(first)).where(*self.received_only),
            select(*columns(second)).where(self.notified, not_(self.received), *self.filters),
        ).subquery("either_cohort")


def _flag(condition) -> Any:
    return case((condition, 1), else_=0)


def _counts(session: Session, figures: Figures, cohorts: _Cohorts, now: datetime) -> None:
    """Every count whose values come from a short known list, from one grouping.

    The database groups the cases of either cohort by a few low-cardinality
    keys (cohort flags, classification, resolution, site type, state, whether
    assessed / acted on / overdue, the removal-time bucket and the notice's
    age); that is a few hundred groups at most, whatever the number of cases,
    and the figures are sums over those groups. (One grouping costs less than
    fifty conditional sums over every row.)
    """
    seconds = seconds_between(Case.removed_at, Case.notice_sent_at)
    # The removal-time bucket: the first whose upper bound the time is within
    # (a CASE takes the first WHEN that holds, so each WHEN needs no lower bound,
    # and the seconds are worked out once or twice a row rather than ten times).
    *bounded, (_, unbounded) = REMOVAL_BUCKETS
    assert unbounded is None, "the last removal bucket is open-ended"
    bucket_of = case(
        *[(seconds <= high, index) for index, (_label, high) in enumerate(bounded)],
        else_=len(bounded),
    )
    # How old the notice is, in whole windows: the largest window it has outlived.
    age_whens = [
        (Case.notice_sent_at <= now - timedelta(days=days), days)
        for days in sorted(REMOVAL_WINDOWS_DAYS, reverse=True)
    ]

    def keys(branch: _Branch) -> list:
        removed = and_(branch.notified, Case.removed_at.is_not(None))
        return [
            _flag(branch.received).label("rec"),
            _flag(branch.notified).label("ntc"),
            Case.classification,
            Case.resolution,
            Case.site_type,
            Case.status,
            _flag(Case.assessed_at.is_not(None)).label("assessed"),
            _flag(Case.first_action_at.is_not(None)).label("acted"),
            _flag(Case.due_at < now).label("past_due"),
            case((removed, bucket_of)).label("bucket"),
            case(*age_whens, else_=0).label("age"),
        ]

    cases = cohorts.either(keys)
    grouped = list(cases.c)
    rows = session.execute(select(*grouped, func.count()).group_by(*grouped)).all()

    classification: dict[str | None, int] = {}
    resolution: dict[str | None, int] = {}
    site_type: dict[str | None, int] = {}
    states: dict[str, int] = {}
    buckets = [0] * (len(REMOVAL_BUCKETS) + 1)  # the last: not removed yet
    within = dict.fromkeys(REMOVAL_WINDOWS_DAYS, 0)
    measurable = dict.fromkeys(REMOVAL_WINDOWS_DAYS, 0)
    bucket_of_window = {days: _bucket_index(days) for days in REMOVAL_WINDOWS_DAYS}
    for rec, ntc, cls, res, site, status, assessed, acted, past_due, bucket, age, n in rows:
        if rec:
            figures.urls_reported += n
            figures.assessed += n if assessed else 0
            figures.illegal += n if cls in ILLEGAL else 0
            is_open = status != Status.CLOSED
            figures.closed_without_action += n if not is_open and not acted else 0
            figures.open_total += n if is_open else 0
            figures.overdue += n if is_open and past_due else 0
            classification[cls] = classification.get(cls, 0) + n
            resolution[res] = resolution.get(res, 0) + n
            site_type[site] = site_type.get(site, 0) + n
            states[status] = states.get(status, 0) + n
        if ntc:
            figures.notified += n
            buckets[len(REMOVAL_BUCKETS) if bucket is None else bucket] += n
            for days in REMOVAL_WINDOWS_DAYS:
                in_time = bucket is not None and bucket <= bucket_of_window[days]
                within[days] += n if in_time else 0
                measurable[days] += n if in_time or age >= days else 0
    figures.removed_after_notice = figures.notified - buckets[-1]
    figures.by_classification = _known_first(classification, Classification)
    figures.by_resolution = _known_first(resolution, Resolution)
    figures.by_site_type = _known_first(site_type, SiteType)
    figures.open_by_state = [(s.value, states.get(s.value, 0)) for s in OPEN_STATE_ORDER]
    figures.removal_within = [
        RemovalShare(days, within[days], measurable[days]) for days in REMOVAL_WINDOWS_DAYS
    ]
    labels = [label for label, _ in REMOVAL_BUCKETS] + [NOT_REMOVED]
    figures.removal_distribution = list(zip(labels, buckets, strict=True))


def _bucket_index(days: int) -> int:
    """The last removal bucket that lies within ``days`` of the notice."""
    for index, (_label, high) in enumerate(REMOVAL_BUCKETS):
        if high == days * DAY:
            return index
    raise ValueError(f"no removal bucket ends at {days} days")


def _known_first(counts: dict[str | None, int], enum) -> list[tuple[str | None, int]]:
    """Every value of ``enum`` in order (zeros too), then any other, then None."""
    known = [member.value for member in enum]
    out = [(value, counts.get(value, 0)) for value in known]
    out += sorted((k, v) for k, v in counts.items() if k is not None and k not in known)
    if counts.get(None):
        out.append((None, counts[None]))
    return out


def _distinct_counts(session: Session, cohorts: _Cohorts, period: Period) -> tuple[int, int]:
    """Reports (distinct submissions) and distinct URLs of the received cohort.

    GROUP BY in a subquery rather than COUNT(DISTINCT): a hash table instead of
    a sort. Without filters the reports are simply the submissions received in
    the period (a submission and its cases share one received_at, and every
    submission has a case), which is a much smaller table to read."""

    def distinct_count(column):
        grouped = select(column).where(*cohorts.received_only).group_by(column).subquery()
        return select(func.count()).select_from(grouped).scalar_subquery()

    if cohorts.filters:
        reports = distinct_count(Case.submission_id)
    else:
        reports = (
            select(func.count())
            .select_from(Submission)
            .where(
                Submission.received_at >= period.start_at,
                Submission.received_at < period.end_at,
            )
            .scalar_subquery()
        )
    row = session.execute(select(reports, distinct_count(Case.url_hash))).one()
    return int(row[0]), int(row[1])


def _hosting(session: Session, figures: Figures, cohorts: _Cohorts) -> None:
    """Counts by hosting country and by provider, from one grouping by both."""
    rows = session.execute(
        select(Case.hosting_country, Case.provider_id, Organisation.name, func.count())
        .outerjoin(Organisation, Organisation.id == Case.provider_id)
        .where(*cohorts.received_only)
        .group_by(Case.hosting_country, Case.provider_id, Organisation.name)
    ).all()
    countries: dict[str | None, int] = {}
    providers: dict[int | None, ProviderCount] = {}
    for country, provider_id, name, count in rows:
        countries[country] = countries.get(country, 0) + count
        before = providers.get(provider_id)
        providers[provider_id] = ProviderCount(
            provider_id, name, count + (before.count if before else 0)
        )
    out = sorted(
        ((k, v) for k, v in countries.items() if k is not None), key=lambda kv: (-kv[1], kv[0])
    )
    if countries.get(None):
        out.append((None, countries[None]))
    figures.by_hosting_country = out
    figures.by_provider = sorted(
        providers.values(),
        key=lambda p: (p.provider_id is None, -p.count, (p.name or "").lower(), p.provider_id or 0),
    )


def _calendar(session: Session, figures: Figures, cohorts: _Cohorts, now: datetime) -> None:
    """Reports per UTC day (short periods) and per month, from one grouping by day."""
    day = utc_date(Case.received_at)
    rows = session.execute(
        select(day, func.count()).where(*cohorts.received_only).group_by(day)
    ).all()
    days = {str(key): int(count) for key, count in rows}
    months: dict[str, int] = {}
    for key, count in days.items():
        months[key[:7]] = months.get(key[:7], 0) + count
    today = now.date()
    figures.by_month = [(m, months.get(m, 0)) for m in figures.period.months(today)]
    if figures.period.days <= MAX_DAYS_FOR_DAILY:
        figures.by_day = [(d, days.get(d, 0)) for d in figures.period.day_list(today)]


_TIME_KEYS = tuple(TIME_LABELS)


def _times(session: Session, figures: Figures, cohorts: _Cohorts) -> None:
    """The four durations of each case of either cohort (NULL where one does not
    apply), and their percentiles, in one pass."""
    to_removal = seconds_between(Case.removed_at, Case.notice_sent_at)

    def durations(branch: _Branch) -> tuple:
        rec, ntc = branch.received, branch.notified
        return (
            case(
                (and_(rec, Case.assessed_at.is_not(None)),
                 seconds_between(Case.assessed_at, Case.received_at)),
            ).label("receipt_to_assessment"),
            case(
                (and_(rec, Case.first_action_at.is_not(None)),
                 seconds_between(Case.first_action_at, Case.received_at)),
            ).label("receipt_to_first_action"),
            case(
                (and_(rec, Case.removed_at.is_not(None)),
                 seconds_between(Case.removed_at, Case.received_at)),
            ).label("receipt_to_removal"),
            case(
                # Removed before the notice went out: 0.
                (and_(ntc, Case.removed_at.is_not(None)),
                 case((Case.removed_at < Case.notice_sent_at, 0), else_=to_removal)),
            ).label("notice_to_removal"),
        )  # fmt: skip

    found = percentiles(session, select(cohorts.either(durations)), _TIME_KEYS).get(None, {})
    figures.times = {key: found.get(key, Summary()) for key in _TIME_KEYS}


def _per_analyst(session: Session, cohorts: _Cohorts) -> list[AnalystFigures]:
    """Cases assessed (their current assessment) and median time, per assessor."""
    query = select(
        Case.assessed_by_id.label("g"),
        seconds_between(Case.assessed_at, Case.received_at).label("assessment"),
    ).where(*cohorts.received_only, Case.assessed_at.is_not(None))
    found = percentiles(session, query, ["assessment"], grouped=True)
    ids = [user_id for user_id in found if user_id is not None]
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    out = [
        AnalystFigures(
            user_id,
            names.get(user_id, "former staff"),
            summary["assessment"].count,
            summary["assessment"].median,
        )
        for user_id, summary in found.items()
    ]
    return sorted(out, key=lambda a: (-a.assessed, a.name.lower(), a.user_id or 0))


# --- serialisation


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def figures_as_dict(figures: Figures) -> dict[str, Any]:
    """The figures as plain JSON-ready data (the API's and the CSV's shape).

    Durations are in seconds (floats: percentiles may fall between two
    values); a share is a fraction 0-1, or null when nothing is measurable
    yet. ``per_analyst`` is present only when it was computed.
    """
    out: dict[str, Any] = {
        "period": {"from": _iso(figures.period.start), "to": _iso(figures.period.end)},
        "as_of": _iso(figures.as_of),
        "filters": {
            "hosting_country": figures.filters.hosting_country,
            "provider_id": figures.filters.provider_id,
        },
        "reports_received": figures.reports_received,
        "urls_reported": figures.urls_reported,
        "unique_urls": figures.unique_urls,
        "assessed": figures.assessed,
        "illegal": figures.illegal,
        "closed_without_action": figures.closed_without_action,
        "by_classification": [{"key": k, "count": v} for k, v in figures.by_classification],
        "by_resolution": [{"key": k, "count": v} for k, v in figures.by_resolution],
        "by_site_type": [{"key": k, "count": v} for k, v in figures.by_site_type],
        "by_hosting_country": [{"key": k, "count": v} for k, v in figures.by_hosting_country],
        "by_provider": [
            {"provider_id": p.provider_id, "name": p.name, "count": p.count}
            for p in figures.by_provider
        ],
        "by_month": [{"month": m, "count": v} for m, v in figures.by_month],
        "times": {
            key: {
                "count": summary.count,
                "median_seconds": summary.median,
                "p90_seconds": summary.p90,
            }
            for key, summary in figures.times.items()
        },
        "notices": {
            "notified": figures.notified,
            "removed": figures.removed_after_notice,
            "removed_within": [
                {
                    "days": s.days,
                    "removed": s.removed,
                    "measurable": s.measurable,
                    "share": s.share,
                }
                for s in figures.removal_within
            ],
            "time_to_removal": [
                {"bucket": label, "count": count} for label, count in figures.removal_distribution
            ],
        },
        "open": {
            "total": figures.open_total,
            "overdue": figures.overdue,
            "by_state": [{"state": s, "count": v} for s, v in figures.open_by_state],
        },
    }
    if figures.by_day is not None:
        out["by_day"] = [{"day": d, "count": v} for d, v in figures.by_day]
    if figures.per_analyst is not None:
        out["per_analyst"] = [
            {
                "user_id": a.user_id,
                "name": a.name,
                "assessed": a.assessed,
                "median_seconds_to_assessment": a.median_seconds,
            }
            for a in figures.per_analyst
        ]
    return out


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


def figures_csv(figures: Figures) -> str:
    """The figures as CSV rows ``figure,value`` (names as in the JSON, dotted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["figure", "value"])
    for name, value in _flatten(figures_as_dict(figures), ""):
        writer.writerow([_safe_cell(name), _safe_cell("" if value is None else value)])
    return buffer.getvalue()


# --- the cases export

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
)
URL_COLUMNS = ("url", "host", "hosting_ip")


def _safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_cases_csv(
    session: Session,
    period: Period,
    filters: StatsFilter,
    *,
    actor: User,
    now: datetime,
    include_urls: bool,
) -> Iterator[str]:
    """Record the export in the audit log, and return the CSV, a chunk per row.

    Never holds reporter contact details or the reporter's notes; URLs (with
    host and hosting IP) only when ``include_urls`` and the actor is a
    supervisor. The caller commits (the audit entry) before sending the rows.
    """
    include_urls = include_urls and actor.has_role("supervisor")
    conditions = [
        Case.received_at >= period.start_at,
        Case.received_at < period.end_at,
        *filters.conditions(),
    ]
    total = session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0
    record_export(
        session,
        "stats.export_cases",
        period,
        filters,
        actor=actor,
        now=now,
        extra={"include_urls": include_urls, "rows": total},
    )
    return _case_rows(session, conditions, include_urls, now)


def record_export(
    session: Session,
    action: str,
    period: Period,
    filters: StatsFilter,
    *,
    actor: User | None,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write who exported what (``stats.export_cases``, ``stats.report``...) to the
    audit log; ``actor`` None is the command line."""
    record(
        session,
        action=action,
        now=now,
        actor_id=actor.id if actor is not None else None,
        details={
            "from": _iso(period.start),
            "to": _iso(period.end),
            "hosting_country": filters.hosting_country,
            "provider_id": filters.provider_id,
            **(extra or {}),
        },
    )
    session.flush()


def _case_rows(
    session: Session, conditions: list, include_urls: bool, now: datetime
) -> Iterator[str]:
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
    ]
    if include_urls:
        columns += [Case.url, Case.host, Case.hosting_ip]
    query = (
        select(*columns)
        .join(Submission, Submission.id == Case.submission_id)
        .outerjoin(provider, provider.id == Case.provider_id)
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .where(*conditions)
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

    writer.writerow(CASE_COLUMNS + (URL_COLUMNS if include_urls else ()))
    yield take()
    for row in session.execute(query):
        values = list(row)
        overdue = values[4] != Status.CLOSED and values[18] is not None and values[18] < now
        cells = values[:19] + ["yes" if overdue else "no"] + values[19:]
        writer.writerow(
            [
                _safe_cell(v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v)
                for v in cells
            ]
        )
        yield take()

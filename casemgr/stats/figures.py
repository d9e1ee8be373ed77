"""The figures hotlines publish, computed in the database.

``compute_figures`` answers every figure of a period with a fixed number of
aggregate queries (none loads cases into Python). The period and filters come
from :mod:`casemgr.stats.selection`, the cohorts' SQL from
:mod:`casemgr.stats.cohorts`, the per-analyst table from
:mod:`casemgr.stats.analysts`; turning figures into JSON or CSV is
:mod:`casemgr.stats.figures_json` and :mod:`casemgr.stats.exports`.

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

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from casemgr.cases.fields import ILLEGAL, Classification, SiteType
from casemgr.cases.models import Case, Submission
from casemgr.cases.states import OPEN_STATUSES, Resolution, Status
from casemgr.directory.models import Organisation
from casemgr.domain import N_
from casemgr.stats.analysts import AnalystFigures, per_analyst
from casemgr.stats.cohorts import Branch, Cohorts
from casemgr.stats.selection import Period, StatsFilter
from casemgr.stats.sql import (
    Summary,
    bucket_index,
    percentiles,
    seconds_between,
    tune_for_reporting,
    utc_date,
)

DAY = 86400
REMOVAL_WINDOWS_DAYS = (1, 3, 7)
HEADLINE_WINDOW_DAYS = 3  # the hotline network's headline figure
# Time from notice to removal, in buckets: (label, upper bound in seconds, inclusive).
# The labels are also the API's bucket names: screens translate them (N_).
REMOVAL_BUCKETS: tuple[tuple[str, int | None], ...] = (
    (N_("≤ 1 day"), DAY),
    (N_("1–3 days"), 3 * DAY),
    (N_("3–7 days"), 7 * DAY),
    (N_("7–14 days"), 14 * DAY),
    (N_("14–30 days"), 30 * DAY),
    (N_("> 30 days"), None),
)
NOT_REMOVED = N_("not yet removed")
# Periods up to this long also get counts per day.
MAX_DAYS_FOR_DAILY = 92
OPEN_STATE_ORDER: tuple[Status, ...] = tuple(s for s in Status if s in OPEN_STATUSES)


@dataclass(frozen=True)
class RemovalShare:
    days: int
    removed: int  # removed within ``days`` of the notice
    measurable: int  # removed within ``days``, or notice at least ``days`` old

    @property
    def share(self) -> float | None:
        return self.removed / self.measurable if self.measurable else None


@dataclass(frozen=True)
class ProviderCount:
    provider_id: int | None
    name: str | None
    count: int


TIME_LABELS = {
    "receipt_to_assessment": N_("Receipt → assessment"),
    "receipt_to_first_action": N_("Receipt → first action"),
    "receipt_to_removal": N_("Receipt → removal"),
    "notice_to_removal": N_("Notice → removal"),
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


def compute_figures(
    session: Session,
    period: Period,
    filters: StatsFilter | None = None,
    *,
    now: datetime,
    include_analysts: bool = False,
) -> Figures:
    """Every figure of ``period`` as of ``now``; per-analyst figures on request.

    Four aggregate queries (five with the analysts), each one pass over the
    cases of the period: every count that has a known set of values at once
    (one grouping, countries and providers included), the distinct URLs,
    days, and all four durations' percentiles together; and the names of the
    providers counted.
    """
    filters = filters or StatsFilter()
    cohorts = Cohorts.of(period, filters)
    tune_for_reporting(session)
    figures = Figures(period=period, filters=filters, as_of=now)
    hosting = _counts(session, figures, cohorts, now)
    figures.reports_received, figures.unique_urls = _distinct_counts(session, cohorts, period)
    _hosting(session, figures, hosting)
    _calendar(session, figures, cohorts, now)
    _times(session, figures, cohorts)
    if include_analysts:
        figures.per_analyst = per_analyst(session, cohorts)
    return figures


def _flag(condition) -> Any:
    return case((condition, 1), else_=0)


def _counts(
    session: Session, figures: Figures, cohorts: Cohorts, now: datetime
) -> dict[tuple[str | None, int | None], int]:
    """Every count whose values come from a short known list, from one grouping;
    returns the received cohort's counts by hosting country and provider.

    The database groups the cases of either cohort by a few low-cardinality
    keys (cohort flags, classification, resolution, site type, state, whether
    assessed / acted on / overdue, the removal-time bucket and the notice's
    age) and, for the received cohort, by hosting country and provider; that
    is a few thousand groups at most whatever the number of cases (they grow
    with the directory's providers, and only illegal cases have one: 6,586 for
    a year of bench/stats.py's 1M cases), and the figures are sums over those
    groups. (One grouping costs less than fifty conditional sums over every
    row, and less than a second grouping by country and provider: one read of
    the period's cases fewer.)
    """
    seconds = seconds_between(Case.removed_at, Case.notice_sent_at)
    # The removal-time bucket: the first whose upper bound the time is within
    # (on PostgreSQL the seconds are worked out once a row, not once per bound).
    *bounded, (_, unbounded) = REMOVAL_BUCKETS
    assert unbounded is None, "the last removal bucket is open-ended"
    bucket_of = bucket_index(seconds, *(high for _label, high in bounded))
    # How old the notice is, in whole windows: the largest window it has outlived.
    age_whens = [
        (Case.notice_sent_at <= now - timedelta(days=days), days)
        for days in sorted(REMOVAL_WINDOWS_DAYS, reverse=True)
    ]

    def keys(branch: Branch) -> list:
        removed = and_(branch.notified, Case.removed_at.is_not(None))
        received = branch.of_received  # keys that only the received cohort's counts read
        return [
            _flag(branch.received).label("rec"),
            _flag(branch.notified).label("ntc"),
            received(Case.classification, "classification"),
            received(Case.resolution, "resolution"),
            received(Case.site_type, "site_type"),
            received(Case.status, "status"),
            received(_flag(Case.assessed_at.is_not(None)), "assessed"),
            received(_flag(Case.first_action_at.is_not(None)), "acted"),
            received(_flag(Case.due_at < now), "past_due"),
            received(Case.hosting_country, "hosting_country"),
            received(Case.provider_id, "provider_id"),
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
    hosting: dict[tuple[str | None, int | None], int] = {}
    for row in rows:
        rec, ntc, cls, res, site, status, assessed, acted, past_due, country, provider = row[:11]
        bucket, age, n = row[11:]
        if rec:
            hosting[country, provider] = hosting.get((country, provider), 0) + n
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
    return hosting


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


def _distinct_counts(session: Session, cohorts: Cohorts, period: Period) -> tuple[int, int]:
    """Reports (distinct submissions) and distinct URLs of the received cohort.

    Submissions: GROUP BY in a subquery rather than COUNT(DISTINCT), a hash
    table of integers instead of a sort. URLs: COUNT(DISTINCT url_hash), a
    sort, compared byte by byte on PostgreSQL (COLLATE "C": the hashes are hex
    digits, equal under any collation exactly when their bytes are, so the
    count is the same). A hash table of ~320,000 64-character keys cost more
    than that sort (bench/stats.py: about 240 against 190 ms of CPU for a year
    of 1M cases), and a sort under the database's own collation more again.
    Without filters the reports are simply the submissions received in the
    period (a submission and its cases share one received_at, and every
    submission has a case), which is a much smaller table to read."""

    def distinct_count(column):
        grouped = select(column).where(*cohorts.received_only).group_by(column).subquery()
        return select(func.count()).select_from(grouped).scalar_subquery()

    url_hash = Case.url_hash
    if session.get_bind().dialect.name == "postgresql":
        url_hash = url_hash.collate("C")
    urls = select(func.count(distinct(url_hash))).where(*cohorts.received_only).scalar_subquery()
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
    row = session.execute(select(reports, urls)).one()
    return int(row[0]), int(row[1])


def _hosting(
    session: Session, figures: Figures, hosting: dict[tuple[str | None, int | None], int]
) -> None:
    """Counts by hosting country and by provider, from the received cohort's
    counts by both (see :func:`_counts`); the providers' names looked up."""
    ids = sorted({provider for _country, provider in hosting if provider is not None})
    query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
    names: dict[int, str] = dict(session.execute(query).all()) if ids else {}
    countries: dict[str | None, int] = {}
    providers: dict[int | None, ProviderCount] = {}
    for (country, provider_id), count in hosting.items():
        name = names.get(provider_id)
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


def _calendar(session: Session, figures: Figures, cohorts: Cohorts, now: datetime) -> None:
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


def _times(session: Session, figures: Figures, cohorts: Cohorts) -> None:
    """The four durations of each case of either cohort (NULL where one does not
    apply), and their percentiles, in one pass."""
    to_removal = seconds_between(Case.removed_at, Case.notice_sent_at)

    def durations(branch: Branch) -> tuple:
        rec, ntc, received = branch.received, branch.notified, branch.of_received
        return (
            received(case(
                (and_(rec, Case.assessed_at.is_not(None)),
                 seconds_between(Case.assessed_at, Case.received_at)),
            ), "receipt_to_assessment"),
            received(case(
                (and_(rec, Case.first_action_at.is_not(None)),
                 seconds_between(Case.first_action_at, Case.received_at)),
            ), "receipt_to_first_action"),
            received(case(
                (and_(rec, Case.removed_at.is_not(None)),
                 seconds_between(Case.removed_at, Case.received_at)),
            ), "receipt_to_removal"),
            case(
                # Removed before the notice went out: 0.
                (and_(ntc, Case.removed_at.is_not(None)),
                 case((Case.removed_at < Case.notice_sent_at, 0), else_=to_removal)),
            ).label("notice_to_removal"),
        )  # fmt: skip

    found = percentiles(session, select(cohorts.either(durations)), _TIME_KEYS).get(None, {})
    figures.times = {key: found.get(key, Summary()) for key in _TIME_KEYS}

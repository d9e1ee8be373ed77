"""What figures to make: a period of whole UTC days and the filters, read from user input.

The dashboard, the API, the CLI and the stored reports all name a period
(``from``/``to``, or a month ``YYYY-MM``) and optional filters (hosting
country, provider); this module parses and checks them, raising one
``ValidationFailed`` that names every bad parameter, before any figure is
computed. Computing lives in :mod:`casemgr.stats.figures`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext
from sqlalchemy.orm import Session

from casemgr.cases.models import Case
from casemgr.clock import FIRST_YEAR, LAST_YEAR, in_range
from casemgr.countries import is_country_code
from casemgr.directory.models import Organisation
from casemgr.domain import OrgKind
from casemgr.errors import ValidationFailed

# --- periods


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
        raise ValueError(gettext("%(value)r is not a date: use YYYY-MM-DD", value=raw))
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(gettext("%(value)s is not a date that exists", value=text)) from None
    if not in_range(day):
        raise ValueError(_out_of_range(text))
    return day


def _out_of_range(text: str) -> str:
    return gettext(
        "%(value)s is outside the years %(first)d to %(last)d",
        value=text,
        first=FIRST_YEAR,
        last=LAST_YEAR,
    )


def default_period(today: date) -> Period:
    """The last 12 months: the year up to and including ``today``, from the day
    after the same date a year before (2025-12-05 to 2026-12-04; after
    29 February, from 1 March)."""
    return Period(year_before(today) + timedelta(days=1), today)


def year_before(day: date) -> date:
    """The same date a year before ``day``; 28 February for 29 February."""
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


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
                errors[name] = [gettext("is required (YYYY-MM-DD)")]
            continue
        try:
            parsed[name] = _date(raw)
        except ValueError as exc:
            errors[name] = [str(exc)]
    start, end = parsed.get(from_name), parsed.get(to_name)
    if start is not None and start > today:
        errors[from_name] = [
            gettext(
                "%(date)s is in the future: there are figures up to today, %(today)s",
                date=start.isoformat(),
                today=today.isoformat(),
            )
        ]
    if not errors:
        fallback = default_period(min(end, today) if end else today)
        start = start or fallback.start
        end = end or today
        if end < start:
            errors[to_name] = [
                gettext(
                    "the period ends (%(end)s) before it starts (%(start)s)",
                    end=end.isoformat(),
                    start=start.isoformat(),
                )
            ]
    if errors:
        raise ValidationFailed(errors)
    return Period(start, end)


def parse_month(raw: str | None, *, today: date, name: str = "month") -> Period:
    """The calendar month named ``YYYY-MM``; the current month is allowed (so far)."""
    match = _MONTH.fullmatch((raw or "").strip())
    if not match:
        raise ValidationFailed(
            {name: [gettext("%(value)r is not a month: use YYYY-MM, e.g. 2026-10", value=raw)]}
        )
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1:
        raise ValidationFailed(
            {name: [gettext("%(value)s is not a month that exists", value=raw.strip())]}
        )
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed({name: [_out_of_range(raw.strip())]})
    period = Period.month(year, month)
    if period.start > today:
        raise ValidationFailed(
            {
                name: [
                    gettext(
                        "%(value)s has not started yet (today is %(today)s)",
                        value=raw.strip(),
                        today=today.isoformat(),
                    )
                ]
            }
        )
    return period


def previous_month(now: datetime) -> Period:
    """The last calendar month that is over at ``now`` (UTC)."""
    year, month = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
    return Period.month(year, month)


def parse_past_month(raw: str | None, *, now: datetime, name: str = "month") -> Period:
    """The month named ``YYYY-MM``, which must be over at ``now``: a stored report
    is of a whole month. Raises ValidationFailed keyed by ``name``."""
    period = parse_month(raw, today=now.date(), name=name)
    if period.end_at > now:
        raise ValidationFailed(
            {
                name: [
                    gettext(
                        "%(month)s is not over yet: a stored report is of a whole month "
                        "(the dashboard makes the PDF of the month so far)",
                        month=period.start.strftime("%Y-%m"),
                    )
                ]
            }
        )
    return period


# --- filters


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
        errors["country"] = [gettext("must be an ISO 3166-1 alpha-2 country code, e.g. KH")]
    provider_id = None
    text = (raw_provider or "").strip()
    if text:
        organisation = (
            session.get(Organisation, int(text)) if text.isdecimal() and len(text) < 10 else None
        )
        if organisation is None or organisation.kind != OrgKind.HOSTING_PROVIDER:
            errors["provider"] = [gettext("must be the id of a hosting provider")]
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

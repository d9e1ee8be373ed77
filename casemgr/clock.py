"""The one source of "now".

Everything that depends on the time takes a clock (or a ``now``) so a test, or
an operator with ``--now``, can run it as of any moment. All times are aware
UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

# The years a date given to the app may fall in, whoever gives it (a form, a
# query, the API, a partner): what every database column and Python's dates
# can hold, with room at either end for the day and time-zone arithmetic done
# on it (year 1 minus a day, or 9999 plus one, raises).
FIRST_YEAR, LAST_YEAR = 1970, 9998
OUT_OF_RANGE = f"must be in the years {FIRST_YEAR} to {LAST_YEAR}"


def in_range(moment: date) -> bool:
    """``moment`` (a date or datetime) falls in FIRST_YEAR..LAST_YEAR."""
    return FIRST_YEAR <= moment.year <= LAST_YEAR


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and ``--now``."""

    def __init__(self, now: datetime):
        self._now = as_utc(now)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = as_utc(now)

    def advance(self, **kwargs) -> datetime:
        from datetime import timedelta

        self._now += timedelta(**kwargs)
        return self._now


def as_utc(value: datetime) -> datetime:
    """Make ``value`` aware UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 date or date-time; naive values are UTC.

    Raises ValueError with a readable message, also for a year outside
    FIRST_YEAR..LAST_YEAR.
    """
    try:
        moment = as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except (ValueError, AttributeError):
        raise ValueError(f"{value!r} is not an ISO 8601 date or time") from None
    except OverflowError:  # e.g. 9999-12-31T23:59-01:00 is past the last UTC datetime
        raise ValueError(f"{value!r} is out of the range of dates") from None
    if not in_range(moment):
        raise ValueError(f"{value!r}: {OUT_OF_RANGE}")
    return moment

"""The one source of "now".

Everything that depends on the time takes a clock (or a ``now``) so a test, or
an operator with ``--now``, can run it as of any moment. All times are aware
UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


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

    Raises ValueError with a readable message.
    """
    try:
        return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except (ValueError, AttributeError):
        raise ValueError(f"{value!r} is not an ISO 8601 date or time") from None
    except OverflowError:  # e.g. 9999-12-31T23:59-01:00 is past the last UTC datetime
        raise ValueError(f"{value!r} is out of the range of dates") from None

"""The hotline's local time (``HOTLINE_TIMEZONE``): how people read and type times.

The database, the API and every computation keep aware UTC datetimes
(:mod:`casemgr.clock`). This module is only the edge where a person meets a
time: a page, a letter, a CSV for a spreadsheet, a form field. Shown times
name their zone ("2026-12-04 21:15 UTC+07", "2026-03-29 04:00 CEST",
"2026-12-04 14:15 UTC"); a wall-clock time typed in the zone becomes UTC, and
one that a daylight-saving change skips or repeats is refused with a message
that says so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from casemgr import clock
from casemgr.clock import as_utc

SETTING = "HOTLINE_TIMEZONE"


def zone(name: object) -> ZoneInfo:
    """The zone an IANA name stands for; ValueError naming ``HOTLINE_TIMEZONE`` if none."""
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ValueError(
        f"{SETTING}={name!r} is not a time zone: give an IANA name such as 'Asia/Phnom_Penh', "
        "'Europe/Berlin' or 'UTC' (spelt exactly; where the system has no time zone "
        "database, install the tzdata package)"
    )


def zone_name(tz: tzinfo) -> str:
    """The zone's IANA name ("Asia/Phnom_Penh"), or what it calls itself."""
    return getattr(tz, "key", None) or str(tz)


def is_utc(tz: tzinfo) -> bool:
    return zone_name(tz) in ("UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu")


def offset_text(offset: timedelta | None, *, short: bool = False) -> str:
    """``+07:00`` (``+07`` when ``short`` and on the hour), ``-03:30``, ``+00:00``."""
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    if short and not minutes:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}:{minutes:02d}"


def abbreviation(moment: datetime) -> str:
    """The zone of an aware ``moment`` as a person reads it: its abbreviation where
    it has a name ("UTC", "CET", "EDT"), else its offset ("UTC+07", "UTC+05:45")."""
    name = moment.tzname() or ""
    if name.isalpha():
        return name
    return "UTC" + offset_text(moment.utcoffset(), short=True)


def describe(tz: tzinfo, at: datetime) -> str:
    """The zone for a note on a page: "Asia/Phnom_Penh (UTC+07:00)", or "UTC"."""
    if is_utc(tz):
        return "UTC"
    return f"{zone_name(tz)} (UTC{offset_text(as_utc(at).astimezone(tz).utcoffset())})"


def local(value: datetime, tz: tzinfo) -> datetime:
    """An aware (or naive UTC) datetime as the wall clock in ``tz`` shows it."""
    return as_utc(value).astimezone(tz)


def format_datetime(value: datetime, tz: tzinfo) -> str:
    """To the minute in ``tz`` with the zone named: "2026-12-04 21:15 UTC+07"."""
    moment = local(value, tz)
    return f"{moment:%Y-%m-%d %H:%M} {abbreviation(moment)}"


def format_date(value: datetime, tz: tzinfo) -> str:
    """The calendar day in ``tz``: "2026-12-04"."""
    return f"{local(value, tz):%Y-%m-%d}"


def input_value(value: datetime, tz: tzinfo) -> str:
    """The value of an ``<input type="datetime-local">``: "2026-12-04T21:15"."""
    return f"{local(value, tz):%Y-%m-%dT%H:%M}"


def day_start(day: date, tz: tzinfo) -> datetime:
    """The first moment of the calendar ``day`` in ``tz``, as aware UTC.

    Midnight skipped by a daylight-saving change (some zones change at 00:00)
    gives the first moment that exists. ValueError out of the range of dates.
    """
    midnight = datetime.combine(day, time())
    try:
        return to_utc(midnight, tz)
    except NonexistentTime as exc:
        return exc.after
    except AmbiguousTime as exc:
        return exc.earlier


class NonexistentTime(ValueError):
    """A wall-clock time that a change of the clocks skips. ``after`` reads it with
    the offset before the change (aware UTC): a moment just after the change."""

    def __init__(self, message: str, after: datetime) -> None:
        super().__init__(message)
        self.after = after


class AmbiguousTime(ValueError):
    """A wall-clock time that happens twice when the clocks go back. ``earlier``
    is its first occurrence (aware UTC)."""

    def __init__(self, message: str, earlier: datetime) -> None:
        super().__init__(message)
        self.earlier = earlier


def to_utc(wall: datetime, tz: tzinfo) -> datetime:
    """A time as a person typed it in ``tz`` (naive: the wall clock), as aware UTC.

    A value with an offset already means that instant. Raises
    :class:`NonexistentTime` or :class:`AmbiguousTime` (both ValueError, with a
    message to show) at a daylight-saving change, ValueError out of the range
    of dates.
    """
    try:
        if wall.tzinfo is not None:
            return as_utc(wall)
        first = wall.replace(tzinfo=tz, fold=0)
        second = wall.replace(tzinfo=tz, fold=1)
        if first.utcoffset() == second.utcoffset():
            return first.astimezone(UTC)
        shown = wall.isoformat(" ", "minutes")
        name = zone_name(tz)
        before, after = first.utcoffset() or timedelta(), second.utcoffset() or timedelta()
        step = _length(abs(after - before))
        change = f"UTC{offset_text(before)} to UTC{offset_text(after)}"
        if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
            raise NonexistentTime(
                f"{shown} does not exist in {name}: the clocks go forward {step} at that "
                f"time (from {change}). Give a time before or after the change.",
                after=first.astimezone(UTC),
            )
        raise AmbiguousTime(
            f"{shown} happens twice in {name}: the clocks go back {step} at that time "
            f"(from {change}). Give a time before or after the repeated ones, or send "
            "this one with its offset through the API.",
            earlier=first.astimezone(UTC),
        )
    except OverflowError:
        raise ValueError(f"{wall.isoformat(' ', 'minutes')} is out of the range of dates") from None


def _length(step: timedelta) -> str:
    hours, rest = divmod(int(step.total_seconds()) // 60, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def parse_local(text: str, tz: tzinfo) -> datetime:
    """What a person typed in a date-and-time field ("2026-12-04T21:15", seconds
    optional; an offset if given is kept) as aware UTC; ValueError with a message,
    also for a year outside clock.FIRST_YEAR..LAST_YEAR."""
    try:
        wall = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("must be a date and time, e.g. 2026-11-28T09:30") from None
    if not clock.in_range(wall):
        raise ValueError(clock.OUT_OF_RANGE)
    return to_utc(wall, tz)

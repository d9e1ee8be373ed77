"""Jinja filters shared by every template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from flask import Flask, has_app_context
from markupsafe import Markup

from casemgr import context, countries, localtime
from casemgr.i18n import current_language


def _zone() -> tzinfo:
    return context.timezone() if has_app_context() else UTC


def format_datetime(value: datetime | None) -> str:
    """In the hotline's time zone, to the minute, the zone named:
    "2026-12-04 21:15 UTC+07" (with the default, "2026-12-04 14:15 UTC")."""
    if value is None:
        return ""
    return localtime.format_datetime(value, _zone())


def compact_time(value: datetime | None) -> Markup:
    """A compact time for a table cell: the wall clock to the minute, the zone
    named in the title ("2026-12-04 21:15" titled "2026-12-04 21:15 UTC+07").
    A filter rather than a macro: a queue page shows a hundred of them."""
    if value is None:
        return Markup("")
    full = format_datetime(value)
    # Not Markup.format: it goes through string.Formatter, five times the cost.
    return Markup('<time title="%s">%s</time>') % (full, full[:16])


def country_options(selected: str | None) -> Markup:
    """Every country as a select's options, named in the page's language."""
    return countries.country_options(selected, current_language())


def format_date(value: datetime | None) -> str:
    """The calendar day in the hotline's time zone: "2026-12-04"."""
    if value is None:
        return ""
    return localtime.format_date(value, _zone())


def format_event_value(value: object) -> object:
    """A value of a case event's fields as a person reads it: a time (stored as
    ISO 8601 with its offset) in the hotline's zone, anything else as it is."""
    if isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return format_datetime(moment)
    return value


def time_zone_note() -> dict[str, str]:
    """The zone every time on a page is in, for the page's footer."""
    return {"time_zone": localtime.describe(_zone(), context.now())}


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes} min"
    return f"{sign}{minutes} min"


def format_about(value: int) -> str:
    """An estimated number as people say it: two significant digits (38,000; 1,000,000)."""
    if value < 100:
        return str(value)
    return f"{round(value, 2 - len(str(value))):,}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["compact_time"] = compact_time
    app.jinja_env.globals["country_options"] = country_options
    app.jinja_env.filters["event_value"] = format_event_value
    app.context_processor(time_zone_note)
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["about"] = format_about

"""Jinja filters shared by every template."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask


def format_datetime(value: datetime | None) -> str:
    """UTC, to the minute: staff across time zones read the same clock."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC")


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
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["about"] = format_about

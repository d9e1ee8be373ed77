"""Periods and months read from user input (casemgr/stats/selection.py), no database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from casemgr.errors import ValidationFailed
from casemgr.stats.selection import (
    Period,
    default_period,
    parse_month,
    parse_past_month,
    parse_period,
    previous_month,
)
from tests.conftest import NOW

TODAY = date(2026, 11, 28)
OCTOBER = Period.month(2026, 10)


def test_period_months_and_labels():
    assert Period.month(2026, 12) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert Period.month(2024, 2).days == 29
    assert Period.month(2026, 10).label == "October 2026"
    assert Period(date(2026, 1, 5), date(2026, 2, 1)).label == "2026-01-05 to 2026-02-01"
    assert Period(date(2025, 11, 15), date(2026, 2, 1)).months(TODAY) == [
        "2025-11", "2025-12", "2026-01", "2026-02",
    ]  # fmt: skip
    # The year up to today (tests/stats/test_periods.py has the edges).
    assert default_period(TODAY) == Period(date(2025, 11, 29), TODAY)
    assert default_period(date(2026, 12, 31)).start == date(2026, 1, 1)


def test_parse_period_defaults():
    assert parse_period(None, None, today=TODAY) == Period(date(2025, 11, 29), TODAY)
    assert parse_period("2026-03-01", "", today=TODAY) == Period(date(2026, 3, 1), TODAY)
    assert parse_period(None, "2026-01-15", today=TODAY) == Period(
        date(2025, 1, 16), date(2026, 1, 15)
    )


def test_parse_period_reports_every_bad_parameter():
    with pytest.raises(ValidationFailed) as caught:
        parse_period("2026-12-30", "2026-02-30", today=TODAY)
    assert set(caught.value.fields) == {"from", "to"}
    with pytest.raises(ValidationFailed) as caught:
        parse_period(None, None, today=TODAY, required=True)
    assert caught.value.fields == {
        "from": ["is required (YYYY-MM-DD)"],
        "to": ["is required (YYYY-MM-DD)"],
    }
    for text in ("2026-1-01", "20261001", "2026-10-01T00:00", " "):
        with pytest.raises(ValidationFailed):
            parse_period(text, None, today=TODAY, required=True)


def test_parse_month():
    assert parse_month("2026-11", today=TODAY) == Period.month(2026, 11)
    assert parse_month(" 2026-02 ", today=TODAY) == Period.month(2026, 2)
    for text in ("2026-00", "2026-13", "0000-01", "2026-1", "26-01", None):
        with pytest.raises(ValidationFailed) as caught:
            parse_month(text, today=TODAY, name="--month")
        assert list(caught.value.fields) == ["--month"]


@pytest.mark.parametrize(
    ("now", "month"),
    [
        (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), "2026-11"),  # November just ended
        (datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), "2026-10"),
        (datetime(2027, 1, 15, 6, tzinfo=UTC), "2026-12"),
        (datetime(2026, 3, 1, 6, tzinfo=UTC), "2026-02"),
    ],
)
def test_previous_month(now, month):
    period = previous_month(now)
    assert f"{period.start:%Y-%m}" == month and period.is_month and period.end_at <= now


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2026-11", "2026-11 is not over yet"),
        ("2026-12", "has not started yet"),
        ("2026-13", "not a month that exists"),
        ("October", "use YYYY-MM"),
        ("", "use YYYY-MM"),
        (None, "use YYYY-MM"),
    ],
)
def test_parse_past_month_names_the_field(raw, message):
    with pytest.raises(ValidationFailed) as caught:
        parse_past_month(raw, now=NOW)
    assert list(caught.value.fields) == ["month"]
    assert message in " ".join(caught.value.fields["month"])


def test_parse_past_month():
    assert parse_past_month(" 2026-10 ", now=NOW) == OCTOBER

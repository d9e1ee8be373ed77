"""The quick periods of the statistics page: the dates each name says, at the
edges of months and years, and only the chosen one highlighted."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from casemgr.stats.selection import Period, default_period
from casemgr.stats.views import chosen_preset, preset_periods
from tests.conftest import login


def dates(today: date) -> dict[str, tuple[str, str]]:
    return {
        name: (period.start.isoformat(), period.end.isoformat())
        for name, period in preset_periods(today).items()
    }


@pytest.mark.parametrize(
    ("today", "this_month"),
    [
        (date(2026, 12, 1), ("2026-12-01", "2026-12-01")),
        (date(2026, 12, 31), ("2026-12-01", "2026-12-31")),
        (date(2027, 1, 1), ("2027-01-01", "2027-01-01")),
        (date(2028, 2, 29), ("2028-02-01", "2028-02-29")),
    ],
)
def test_this_month_is_its_first_day_to_today(today, this_month):
    assert dates(today)["this_month"] == this_month


@pytest.mark.parametrize(
    ("today", "last_month"),
    [
        (date(2027, 1, 1), ("2026-12-01", "2026-12-31")),  # across the year
        (date(2026, 3, 31), ("2026-02-01", "2026-02-28")),
        (date(2028, 3, 1), ("2028-02-01", "2028-02-29")),  # a leap February
        (date(2026, 12, 31), ("2026-11-01", "2026-11-30")),
    ],
)
def test_last_month_is_the_whole_calendar_month_before(today, last_month):
    assert dates(today)["last_month"] == last_month


@pytest.mark.parametrize(
    ("today", "last_12"),
    [
        (date(2026, 12, 4), ("2025-12-05", "2026-12-04")),  # the report of issue 18
        (date(2026, 12, 1), ("2025-12-02", "2026-12-01")),
        (date(2027, 1, 1), ("2026-01-02", "2027-01-01")),
        (date(2026, 12, 31), ("2026-01-01", "2026-12-31")),  # the same days as this year
        (date(2028, 2, 29), ("2027-03-01", "2028-02-29")),
        (date(2029, 2, 28), ("2028-02-29", "2029-02-28")),
    ],
)
def test_last_12_months_is_the_year_up_to_today(today, last_12):
    assert dates(today)["last_12_months"] == last_12
    assert default_period(today) == Period(*map(date.fromisoformat, last_12))


@pytest.mark.parametrize(
    ("today", "this_year"),
    [
        (date(2027, 1, 1), ("2027-01-01", "2027-01-01")),
        (date(2026, 12, 4), ("2026-01-01", "2026-12-04")),
        (date(2026, 12, 31), ("2026-01-01", "2026-12-31")),
    ],
)
def test_this_year_is_new_year_to_today(today, this_year):
    assert dates(today)["this_year"] == this_year


@pytest.mark.parametrize("today", [date(2026, 12, 4), date(2026, 1, 1), date(2026, 7, 31)])
def test_last_12_months_and_this_year_differ_but_on_new_years_eve(today):
    assert dates(today)["last_12_months"] != dates(today)["this_year"]


def test_only_the_named_preset_is_chosen():
    presets = preset_periods(date(2026, 12, 31))
    year = presets["this_year"]
    assert chosen_preset(presets, year, "this_year") == "this_year"
    assert chosen_preset(presets, year, "last_12_months") == "last_12_months"
    assert chosen_preset(presets, year, "last_month") is None  # named, but not shown
    assert chosen_preset(presets, year, None) == "last_12_months"  # first match only
    assert chosen_preset(presets, Period(date(2026, 5, 1), date(2026, 5, 9)), None) is None


def _highlighted(page: str) -> list[str]:
    return re.findall(r'aria-current="page">([^<]+)</a>', page)


@pytest.mark.parametrize(
    ("now", "name", "label"),
    [
        (datetime(2026, 12, 4, 12, tzinfo=UTC), "this_month", "This month"),
        (datetime(2026, 12, 4, 12, tzinfo=UTC), "last_month", "Last month"),
        (datetime(2026, 12, 4, 12, tzinfo=UTC), "last_12_months", "Last 12 months"),
        (datetime(2026, 12, 4, 12, tzinfo=UTC), "this_year", "This year"),
        (datetime(2026, 12, 31, 12, tzinfo=UTC), "this_year", "This year"),
        (datetime(2026, 12, 31, 12, tzinfo=UTC), "last_12_months", "Last 12 months"),
        (datetime(2027, 1, 1, 0, 30, tzinfo=UTC), "last_month", "Last month"),
    ],
)
def test_the_page_highlights_the_chosen_period_only(client, clock, supervisor, now, name, label):
    clock.set(now)
    login(client, supervisor)
    page = client.get("/stats/").get_data(as_text=True)
    link = re.search(rf'href="(/stats/\?period={name}[^"]*)"', page).group(1)
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert _highlighted(response.get_data(as_text=True)) == [label]


def test_a_custom_range_highlights_nothing(client, supervisor):
    login(client, supervisor)
    page = client.get("/stats/?from=2026-05-01&to=2026-05-09").get_data(as_text=True)
    assert _highlighted(page) == []
    assert "2026-05-01 – 2026-05-09" in page

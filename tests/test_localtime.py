"""HOTLINE_TIMEZONE: the setting checked at start, times shown with their zone,
wall-clock times typed in the zone (daylight-saving gaps and overlaps refused)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from casemgr import create_app, localtime
from casemgr.localtime import AmbiguousTime, NonexistentTime

BERLIN = localtime.zone("Europe/Berlin")
NEW_YORK = localtime.zone("America/New_York")
PHNOM_PENH = localtime.zone("Asia/Phnom_Penh")
KATHMANDU = localtime.zone("Asia/Kathmandu")
WINTER = datetime(2026, 12, 4, 14, 15, tzinfo=UTC)
SUMMER = datetime(2026, 7, 4, 14, 15, tzinfo=UTC)


# ------------------------------------------------------------------ the setting


@pytest.mark.parametrize(
    "name", ["Asia/Phnom_Penh ", "asia/phnom_penh", "Mars/Olympus", "", "../etc/passwd", 7, None]
)
def test_a_name_that_is_no_zone_stops_the_app_naming_the_setting(name):
    with pytest.raises(RuntimeError, match="HOTLINE_TIMEZONE") as refused:
        create_app({"TESTING": True, "HOTLINE_TIMEZONE": name})
    assert "Asia/Phnom_Penh" in str(refused.value)  # says what a good value looks like


def test_the_environment_sets_the_zone(monkeypatch):
    monkeypatch.setenv("CASEMGR_HOTLINE_TIMEZONE", "Asia/Phnom_Penh")
    app = create_app({"TESTING": True})
    assert app.extensions["casemgr.timezone"] == PHNOM_PENH


def test_the_default_is_utc(app):
    assert app.config["HOTLINE_TIMEZONE"] == "UTC"
    assert localtime.is_utc(app.extensions["casemgr.timezone"])


# ------------------------------------------------------------------ showing


@pytest.mark.parametrize(
    ("tz", "moment", "shown"),
    [
        (localtime.zone("UTC"), WINTER, "2026-12-04 14:15 UTC"),
        (PHNOM_PENH, WINTER, "2026-12-04 21:15 UTC+07"),
        (PHNOM_PENH, datetime(2026, 12, 4, 20, 0, tzinfo=UTC), "2026-12-05 03:00 UTC+07"),
        (BERLIN, WINTER, "2026-12-04 15:15 CET"),
        (BERLIN, SUMMER, "2026-07-04 16:15 CEST"),
        (NEW_YORK, WINTER, "2026-12-04 09:15 EST"),
        (KATHMANDU, WINTER, "2026-12-04 20:00 UTC+05:45"),
        (localtime.zone("America/St_Johns"), WINTER, "2026-12-04 10:45 NST"),
    ],
)
def test_times_are_shown_on_the_local_clock_with_the_zone_named(tz, moment, shown):
    assert localtime.format_datetime(moment, tz) == shown


def test_a_naive_time_is_taken_as_utc():
    assert localtime.format_datetime(datetime(2026, 12, 4, 14, 15), PHNOM_PENH).startswith(
        "2026-12-04 21:15"
    )


def test_the_day_is_the_local_day():
    late = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    assert localtime.format_date(late, PHNOM_PENH) == "2026-12-05"
    assert localtime.format_date(late, localtime.zone("UTC")) == "2026-12-04"


def test_the_zone_is_described_for_a_page():
    assert localtime.describe(PHNOM_PENH, WINTER) == "Asia/Phnom_Penh (UTC+07:00)"
    assert localtime.describe(BERLIN, SUMMER) == "Europe/Berlin (UTC+02:00)"
    assert localtime.describe(localtime.zone("UTC"), WINTER) == "UTC"


# ------------------------------------------------------------------ typing


def test_a_wall_clock_time_becomes_utc():
    assert localtime.parse_local("2026-12-04T21:15", PHNOM_PENH) == WINTER
    assert localtime.parse_local(" 2026-12-04T21:15:00 ", PHNOM_PENH) == WINTER
    assert localtime.parse_local("2026-07-04T16:15", BERLIN) == SUMMER


def test_a_time_with_an_offset_keeps_it():
    assert localtime.parse_local("2026-12-04T14:15+00:00", PHNOM_PENH) == WINTER


@pytest.mark.parametrize(
    ("tz", "typed", "words"),
    [
        (BERLIN, "2026-03-29T02:30", "2026-03-29 02:30 does not exist in Europe/Berlin"),
        (NEW_YORK, "2026-03-08T02:15", "2026-03-08 02:15 does not exist in America/New_York"),
    ],
)
def test_a_time_the_clocks_skip_is_refused(tz, typed, words):
    with pytest.raises(NonexistentTime) as refused:
        localtime.parse_local(typed, tz)
    assert words in str(refused.value)
    assert "go forward 1 h" in str(refused.value)


@pytest.mark.parametrize(
    ("tz", "typed", "words"),
    [
        (BERLIN, "2026-10-25T02:30", "2026-10-25 02:30 happens twice in Europe/Berlin"),
        (NEW_YORK, "2026-11-01T01:30", "2026-11-01 01:30 happens twice in America/New_York"),
    ],
)
def test_a_time_that_happens_twice_is_refused(tz, typed, words):
    with pytest.raises(AmbiguousTime) as refused:
        localtime.parse_local(typed, tz)
    assert words in str(refused.value)
    assert "go back 1 h" in str(refused.value)


def test_times_next_to_a_change_are_taken():
    assert localtime.parse_local("2026-03-29T01:59", BERLIN) == datetime(
        2026, 3, 29, 0, 59, tzinfo=UTC
    )
    assert localtime.parse_local("2026-03-29T03:00", BERLIN) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    assert localtime.parse_local("2026-10-25T03:00", BERLIN) == datetime(
        2026, 10, 25, 2, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("yesterday", "must be a date and time"),
        ("2026-13-01T10:00", "must be a date and time"),
        ("0001-01-01T00:00", "must be in the years 1970 to 9998"),
        ("9999-12-31T23:59", "must be in the years 1970 to 9998"),
    ],
)
def test_what_is_no_time_is_refused_with_a_message(typed, message):
    with pytest.raises(ValueError, match=message):
        localtime.parse_local(typed, PHNOM_PENH)


def test_a_day_starts_at_local_midnight():
    assert localtime.day_start(date(2026, 12, 4), PHNOM_PENH) == datetime(
        2026, 12, 3, 17, 0, tzinfo=UTC
    )
    assert localtime.day_start(date(2026, 3, 29), BERLIN) == datetime(
        2026, 3, 28, 23, 0, tzinfo=UTC
    )
    # São Paulo skipped midnight on 2018-11-04: the day began at 01:00 local time.
    sao_paulo = localtime.zone("America/Sao_Paulo")
    assert localtime.day_start(date(2018, 11, 4), sao_paulo) == datetime(
        2018, 11, 4, 3, 0, tzinfo=UTC
    )

"""Letters, exports and the letters page in the hotline's time zone
(HOTLINE_TIMEZONE): the letter's date, first-seen times and deadline on the
local clock with the zone named, read back from the PDF; export periods of
local days. The clock stands at 2026-11-28 09:00 UTC (16:00 in Phnom Penh)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.localtime import zone
from casemgr.notices.export import ExportRequest, export_letters
from casemgr.notices.pdf.layout import render_letter
from tests.conftest import NOW, login
from tests.jobs.conftest import alerts, letters, pdf_text, run_notices, run_reminders
from tests.notices.pdf.conftest import LETTERHEAD, make_letter
from tests.pdf.conftest import texts

PHNOM_PENH = zone("Asia/Phnom_Penh")


def test_a_letter_prints_its_times_on_the_local_clock():
    # date 2026-11-28 17:00 UTC; first seen from 10:52 UTC; deadline 2026-12-01 10:00 UTC
    text = "\n".join(texts(render_letter(make_letter(timezone=PHNOM_PENH), LETTERHEAD)))
    assert "Date\n2026-11-29" in text  # past midnight in Phnom Penh
    assert "First seen\n" in text and "First seen (UTC)" not in text
    assert "2026-11-28\n17:52 UTC+07" in text
    assert "by 2026-12-01 17:00 UTC+07." in text
    assert " UTC\n" not in text and "UTC." not in text


def test_a_zone_too_long_for_the_column_goes_on_a_line_of_its_own():
    text = "\n".join(texts(render_letter(make_letter(timezone=zone("Asia/Kathmandu")), LETTERHEAD)))
    assert "2026-11-28\n16:37\nUTC+05:45" in text
    assert "by 2026-12-01 15:45 UTC+05:45." in text


def test_a_letter_in_a_zone_with_summer_time_names_each_time_s_zone():
    summer = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    letter = make_letter(
        date=summer, deadline=summer + timedelta(days=3), timezone=zone("Europe/Berlin")
    )
    text = "\n".join(texts(render_letter(letter, LETTERHEAD)))
    assert "by 2026-07-04 10:00 CEST." in text
    assert "2026-11-28\n11:52 CET" in text  # first seen in November: winter time


class TestTheNoticeRun:
    @pytest.fixture
    def app_config(self):
        return {"HOTLINE_TIMEZONE": "Asia/Phnom_Penh"}

    def test_the_stored_letter_is_on_the_hotline_s_clock(self, app, make, queue):
        case = queue(make.organisation(name="Alpha Hosting"))
        run_notices(app, NOW + timedelta(hours=10))  # 2026-11-29 02:00 in Phnom Penh
        (notice,) = letters("notice")
        text = pdf_text(notice.pdf)
        assert "2026-11-29" in text  # the letter's date
        assert "2026-12-02 02:00 UTC+07" in text  # the deadline: 72 h after the run
        received = case.received_at.astimezone(PHNOM_PENH)
        assert f"{received:%H:%M} UTC+07" in text

    def test_a_hold_review_names_the_local_day_the_hold_began(self, app, make, analyst):
        # held at 2026-11-27 17:30 UTC: 2026-11-28 00:30 in Phnom Penh
        case = make.case(
            "with_police_hold", by=analyst, at=datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
        )
        run_reminders(app, case.hold_since + timedelta(days=30))
        (alert,) = alerts("hold_review")
        assert f"Police hold on {case.reference} since 2026-11-28:" in alert.message

    def test_the_letters_page_shows_local_times_and_filters_local_days(
        self,
        app,
        make,
        queue,
        client,
        supervisor,
    ):
        queue(make.organisation(name="Alpha Hosting"))
        run_notices(app, NOW + timedelta(hours=10))  # 2026-11-28 19:00 UTC
        login(client, supervisor)
        page = client.get("/notices/").get_data(as_text=True)
        assert "2026-11-29 02:00 UTC+07" in page
        assert "From (day in Asia/Phnom_Penh)" in page
        on_the_29th = client.get("/notices/?from=2026-11-29&to=2026-11-29").get_data(as_text=True)
        assert "CM-N-2026-000001" in on_the_29th
        on_the_28th = client.get("/notices/?from=2026-11-28&to=2026-11-28").get_data(as_text=True)
        assert "CM-N-2026-000001" not in on_the_28th
        # a day at the end of the range of dates is no filter, not an error
        assert client.get("/notices/?from=0001-01-01&to=9999-12-31").status_code == 200

    def test_an_export_takes_local_days_and_its_index_local_times(
        self,
        app,
        make,
        queue,
    ):
        queue(make.organisation(name="Alpha Hosting"))
        run_notices(app, NOW + timedelta(hours=10))
        out = io.BytesIO()
        request = ExportRequest(
            first=date(2026, 11, 29), last=date(2026, 11, 29), format="zip", timezone=PHNOM_PENH
        )
        result = export_letters(
            db.session, request, out, now=NOW, actor=SYSTEM_ACTOR, max_merged=10, via="test"
        )
        assert result.references == ["CM-N-2026-000001"]
        with zipfile.ZipFile(out) as archive:
            (row,) = csv.DictReader(io.StringIO(archive.read("index.csv").decode()))
            member = archive.getinfo(row["file"])
        assert row["created_at"] == "2026-11-29T02:00:00+07:00"
        assert member.date_time == (2026, 11, 29, 2, 0, 0)

    def test_a_day_past_the_range_of_dates_is_named(self):
        with pytest.raises(ValidationFailed) as refused:
            ExportRequest(first=date(2026, 11, 1), last=date(9999, 12, 31), timezone=PHNOM_PENH)
        assert refused.value.fields == {"to": ["is past the range of dates"]}

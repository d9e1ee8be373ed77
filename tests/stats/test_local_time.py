"""Statistics in the hotline's time zone (HOTLINE_TIMEZONE): the cases CSV on
the local clock with its zone in a column, the report's "as of" time local, and
both saying that periods are still whole UTC days (the figures are not redesigned)."""

from __future__ import annotations

import csv
import io

import pytest

from casemgr.localtime import zone
from casemgr.stats import pdf
from tests.conftest import login
from tests.pdf.conftest import texts
from tests.stats.test_pdf import LETTERHEAD, figures

OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}


def _cases_csv(client) -> list[dict[str, str]]:
    response = client.post("/stats/cases.csv", data=OCTOBER)
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_report_gives_its_time_on_the_local_clock():
    data = pdf.monthly_report(figures(), letterhead=LETTERHEAD, timezone=zone("Asia/Phnom_Penh"))
    text = " ".join(" ".join(texts(data)).split())
    assert "Figures as of 2026-11-28 16:00 UTC+07" in text
    assert "made 2026-11-28 16:00 UTC+07" in text  # the page footer
    assert "Days and months are counted in UTC" in text


def test_the_report_in_utc_reads_as_before():
    text = " ".join(" ".join(texts(pdf.monthly_report(figures(), letterhead=LETTERHEAD))).split())
    assert "Figures as of 2026-11-28 09:00 UTC" in text
    assert "counted in UTC" not in text


class TestPhnomPenh:
    @pytest.fixture
    def app_config(self):
        return {"ENV_NAME": "testing", "HOTLINE_TIMEZONE": "Asia/Phnom_Penh"}

    def test_the_cases_csv_is_on_the_local_clock_and_names_its_zone(self, client, data):
        rows = _cases_csv(login(client, data.sam))
        first = rows[0]
        assert first["reference"] == data.cases["c1"].reference
        assert first["received_at"] == "2026-10-01 07:00:00"  # 00:00 UTC
        assert first["time_zone"] == "Asia/Phnom_Penh"
        assert {row["time_zone"] for row in rows} == {"Asia/Phnom_Penh"}

    def test_the_dashboard_names_the_zone_and_says_days_are_utc(self, client, data):
        page = login(client, data.sam).get("/stats/?from=2026-10-01&to=2026-10-31")
        text = page.get_data(as_text=True)
        assert "As of 2026-11-28 16:00 UTC+07." in text
        assert "Periods, days and months are counted in UTC, not in local time." in text
        assert "Times are in Asia/Phnom_Penh (UTC+07:00), named in the time_zone column." in text


def test_the_cases_csv_in_utc_reads_as_before(client, data):
    first = _cases_csv(login(client, data.sam))[0]
    assert first["received_at"] == "2026-10-01 00:00:00"
    assert first["time_zone"] == "UTC"

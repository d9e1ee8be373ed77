"""The filters every template uses for times, and staff pages in the hotline's
time zone (HOTLINE_TIMEZONE): times on the local clock with the zone named, a
footer naming the zone, date filters of local days. The clock stands at
2026-11-28 09:00 UTC (16:00 in Phnom Penh)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casemgr import templating
from tests.audit.helpers import write
from tests.auth.test_lockout import fail
from tests.conftest import login

LATE = datetime(2026, 11, 28, 18, 30, tzinfo=UTC)  # 2026-11-29 01:30 in Phnom Penh


def test_outside_an_app_times_read_in_utc():
    assert templating.format_datetime(LATE) == "2026-11-28 18:30 UTC"
    assert templating.format_date(LATE) == "2026-11-28"
    assert templating.format_datetime(None) == templating.format_date(None) == ""


def test_with_the_default_pages_read_as_before(app):
    assert templating.format_datetime(LATE) == "2026-11-28 18:30 UTC"
    assert templating.time_zone_note() == {"time_zone": "UTC"}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-11-28T18:30:00+00:00", "2026-11-29 01:30 UTC+07"),
        ("2026-11-28T18:30:00", "2026-11-28T18:30:00"),  # no offset: no time we stored
        ("a reason, 2026", "a reason, 2026"),
        ("Tuesday", "Tuesday"),
        (42, 42),
        (True, True),
    ],
)
def test_event_values_that_are_stored_times_are_shown_locally(app, value, shown):
    app.extensions["casemgr.timezone"] = templating.localtime.zone("Asia/Phnom_Penh")
    assert templating.format_event_value(value) == shown


class TestPhnomPenh:
    @pytest.fixture
    def app_config(self):
        return {"HOTLINE_TIMEZONE": "Asia/Phnom_Penh"}

    def test_the_filters_use_the_hotline_s_zone(self, app):
        assert templating.format_datetime(LATE) == "2026-11-29 01:30 UTC+07"
        assert templating.format_date(LATE) == "2026-11-29"

    def test_staff_pages_name_the_zone_public_pages_do_not(self, client, analyst):
        assert "Times are in" not in client.get("/").get_data(as_text=True)
        page = login(client, analyst).get("/cases/").get_data(as_text=True)
        assert '<footer class="time-zone muted">Times are in Asia/Phnom_Penh (UTC+07:00).' in page

    def test_an_api_token_s_times_are_local(self, client, admin, make):
        holder = make.user("analyst")
        login(client, admin)
        issued = client.post(f"/admin/users/{holder.id}/tokens", data={"label": "tool"})
        assert issued.status_code == 200, issued.get_data(as_text=True)
        assert "<dt>Issued</dt><dd>2026-11-28 16:00 UTC+07</dd>" in issued.get_data(as_text=True)
        listed = client.get("/admin/tokens").get_data(as_text=True)
        assert "2026-11-28 16:00 UTC+07" in listed

    def test_the_audit_log_is_searched_by_local_days(self, client, admin, clock):
        clock.set(LATE)  # 2026-11-29 01:30 in Phnom Penh, 2026-11-28 in UTC
        write(1, action="test.late")
        login(client, admin)
        page = client.get("/admin/audit/?action=test.").get_data(as_text=True)
        assert "2026-11-29 01:30 UTC+07" in page
        on_the_28th = client.get("/admin/audit/?action=test.&since=2026-11-28&until=2026-11-28")
        assert "<code>test.late</code>" not in on_the_28th.get_data(as_text=True)
        on_the_29th = client.get("/admin/audit/?action=test.&since=2026-11-29&until=2026-11-29")
        assert "<code>test.late</code>" in on_the_29th.get_data(as_text=True)
        for query in ("?since=0001-01-01", "?until=9999-12-31"):
            assert client.get("/admin/audit/" + query).status_code == 200

    def test_a_locked_sign_in_says_until_when_on_the_local_clock(self, client, analyst):
        assert fail(client, analyst.email)[-1] == 429
        page = client.post("/login", data={"email": analyst.email, "password": "x" * 12})
        assert "(until 2026-11-28 16:15 UTC+07)" in page.get_data(as_text=True)

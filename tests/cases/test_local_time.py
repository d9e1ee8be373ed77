"""The case screens in the hotline's time zone (HOTLINE_TIMEZONE): times shown
with the zone named, the removal time typed on the local clock, and the API
still in UTC. The clock stands at 2026-11-28 09:00 UTC (16:00 in Phnom Penh)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casemgr.cases.models import Case
from casemgr.extensions import db
from tests.conftest import login


def _confirm(client, case, typed: str):
    return client.post(
        f"/cases/{case.id}/actions/confirm_takedown",
        data={"confirm_takedown-version": case.version, "confirm_takedown-removed_at": typed},
    )


def _refused(client, case, typed: str):
    """A refused value: post/redirect/get back to the case page, which shows it once."""
    response = _confirm(client, case, typed)
    assert response.status_code == 303
    return client.get(response.headers["Location"])


def _reloaded(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


class TestPhnomPenh:
    @pytest.fixture
    def app_config(self):
        return {"HOTLINE_TIMEZONE": "Asia/Phnom_Penh"}

    def test_the_case_page_shows_local_times_and_names_the_zone(self, client, make, analyst):
        case = make.case("notice_sent", by=analyst)  # received 2026-11-27 09:00 UTC
        page = login(client, analyst).get(f"/cases/{case.id}").get_data(as_text=True)
        assert "2026-11-27 16:00 UTC+07" in page
        assert "09:00 UTC" not in page
        assert "Times are in Asia/Phnom_Penh (UTC+07:00)." in page

    def test_the_removal_time_starts_at_now_on_the_local_clock(self, client, make, analyst):
        case = make.case("notice_sent", by=analyst)
        page = login(client, analyst).get(f"/cases/{case.id}").get_data(as_text=True)
        assert "Removed at (Asia/Phnom_Penh)" in page
        assert 'type="datetime-local"' in page
        assert 'value="2026-11-28T16:00"' in page

    def test_a_removal_time_typed_locally_is_stored_in_utc(self, client, make, analyst):
        case = make.case("notice_sent", by=analyst)
        response = _confirm(login(client, analyst), case, "2026-11-28T15:30")
        assert response.status_code == 303, response.get_data(as_text=True)
        case = _reloaded(case)
        assert case.removed_at == datetime(2026, 11, 28, 8, 30, tzinfo=UTC)
        assert case.resolution == "takedown_confirmed"
        page = client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert "removed at: 2026-11-28 15:30 UTC+07" in page  # the history, on the local clock
        assert "→ removed 2026-11-28 15:30 UTC+07" in page

    def test_a_time_that_is_no_time_is_named_and_kept(self, client, make, analyst):
        case = make.case("notice_sent", by=analyst)
        response = _refused(login(client, analyst), case, "28/11/2026 3pm")
        page = response.get_data(as_text=True)
        assert "must be a date and time" in page and 'value="28/11/2026 3pm"' in page
        assert _reloaded(case).status == "notice_sent"

    def test_a_blank_removal_time_is_required(self, client, make, analyst):
        case = make.case("notice_sent", by=analyst)
        response = _refused(login(client, analyst), case, "")
        assert "is required" in response.get_data(as_text=True)
        assert _reloaded(case).removed_at is None

    def test_the_api_keeps_utc(self, as_analyst, make, analyst):
        case = make.case("notice_sent", by=analyst)
        response = as_analyst.post(
            f"/api/v1/cases/{case.id}/actions/confirm_takedown",
            json={"removed_at": "2026-11-28T08:30:00Z"},
        )
        assert response.status_code == 200, response.json
        assert response.json["removed_at"] == "2026-11-28T08:30:00+00:00"
        assert response.json["received_at"] == "2026-11-27T09:00:00+00:00"


class TestBerlin:
    """Asia/Phnom_Penh has no daylight-saving time; Berlin has."""

    @pytest.fixture
    def app_config(self):
        return {"HOTLINE_TIMEZONE": "Europe/Berlin"}

    @pytest.mark.parametrize(
        ("typed", "words"),
        [
            ("2026-03-29T02:30", "2026-03-29 02:30 does not exist in Europe/Berlin"),
            ("2026-10-25T02:30", "2026-10-25 02:30 happens twice in Europe/Berlin"),
        ],
    )
    def test_a_time_in_a_change_of_the_clocks_is_refused_next_to_the_field(
        self, client, make, analyst, typed, words
    ):
        case = make.case("notice_sent", by=analyst)
        response = _refused(login(client, analyst), case, typed)
        page = response.get_data(as_text=True)
        field = page[page.index("Removed at (Europe/Berlin)") :]
        assert words in field[: field.index("</div>")]  # under the field it is about
        case = _reloaded(case)
        assert case.status == "notice_sent" and case.removed_at is None

    def test_a_time_in_winter_is_read_in_cet(self, client, make, analyst):
        case = make.case("notice_sent", by=analyst)
        response = _confirm(login(client, analyst), case, "2026-11-28T09:45")
        assert response.status_code == 303
        assert _reloaded(case).removed_at == datetime(2026, 11, 28, 8, 45, tzinfo=UTC)


class TestDefaultUtc:
    def test_pages_and_inputs_read_as_before(self, client, make, analyst):
        case = make.case("notice_sent", by=analyst)
        page = login(client, analyst).get(f"/cases/{case.id}").get_data(as_text=True)
        assert "2026-11-27 09:00 UTC" in page
        assert "Removed at (UTC)" in page and 'value="2026-11-28T09:00"' in page
        assert "Times are in UTC." in page
        response = _confirm(client, case, "2026-11-27T10:00")
        assert response.status_code == 303
        assert _reloaded(case).removed_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

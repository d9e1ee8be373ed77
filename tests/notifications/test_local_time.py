"""Notifications in the hotline's time zone (HOTLINE_TIMEZONE): the due time on
the local clock, the zone named."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW
from tests.notifications.test_notifications import mine, run_job


@pytest.fixture
def app_config():
    return {"HOTLINE_TIMEZONE": "Asia/Phnom_Penh"}


def test_an_overdue_notification_gives_the_due_time_on_the_local_clock(app, make, analyst):
    case = make.case("triage", by=analyst)  # assessment due at NOW, 16:00 in Phnom Penh
    assert run_job(app, NOW + timedelta(hours=1)).counts["overdue"] == 1
    [notification] = mine(analyst)
    assert (
        notification.message == f"{case.reference} is overdue: it was due 2026-11-28 16:00 UTC+07."
    )

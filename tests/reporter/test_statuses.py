"""The one mapping from a case's state to what the reporter is told."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from casemgr.cases.states import Resolution, Status
from casemgr.reporter.statuses import (
    BY_RESOLUTION,
    BY_STATE,
    EXPLANATIONS,
    LABELS,
    ReporterStatus,
    reporter_status,
)


def test_every_state_and_resolution_of_the_workflow_says_something():
    assert set(BY_STATE) == set(Status) - {Status.CLOSED}
    assert set(BY_RESOLUTION) == set(Resolution) - {Resolution.DUPLICATE}
    assert set(LABELS) == set(EXPLANATIONS) == set(ReporterStatus)


def _case(status, resolution=None, police_hold=False, duplicate_of=None):
    return SimpleNamespace(
        status=status, resolution=resolution, police_hold=police_hold, duplicate_of=duplicate_of
    )


@pytest.mark.parametrize(
    ("status", "resolution", "expected"),
    [
        ("new", None, ReporterStatus.RECEIVED),
        ("triage", None, ReporterStatus.BEING_ASSESSED),
        ("action_required", None, ReporterStatus.BEING_ASSESSED),
        ("notice_pending", None, ReporterStatus.ACTION_TAKEN),
        ("notice_sent", None, ReporterStatus.ACTION_TAKEN),
        ("forwarded", None, ReporterStatus.ACTION_TAKEN),
        ("with_police", None, ReporterStatus.ACTION_TAKEN),
        ("closed", "takedown_confirmed", ReporterStatus.REMOVED),
        ("closed", "not_illegal", ReporterStatus.CLOSED_WITHOUT_ACTION),
        ("closed", "out_of_remit", ReporterStatus.CLOSED_WITHOUT_ACTION),
        ("closed", "content_unavailable", ReporterStatus.CLOSED_WITHOUT_ACTION),
    ],
)
def test_each_state_maps_to_one_coarse_status(status, resolution, expected):
    assert reporter_status(_case(status, resolution)) is expected


def test_a_police_hold_says_no_more_than_action_taken():
    held = _case("with_police", police_hold=True)
    assert (
        reporter_status(held)
        is reporter_status(_case("with_police"))
        is (ReporterStatus.ACTION_TAKEN)
    )


def test_a_duplicate_says_what_its_original_says():
    original = _case("notice_sent")
    assert reporter_status(_case("closed", "duplicate", duplicate_of=original)) is (
        ReporterStatus.ACTION_TAKEN
    )
    assert reporter_status(_case("closed", "duplicate")) is ReporterStatus.CLOSED_WITHOUT_ACTION

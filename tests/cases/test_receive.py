"""receive_report: references reserved in one go, one event per case, duplicates linked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casemgr.cases import receiving
from casemgr.cases.models import CaseEvent
from casemgr.errors import ValidationFailed
from casemgr.extensions import db


def test_references_are_consecutive_per_submission(app, make):
    first = make.report("http://r.example.com/1", "http://r.example.com/2").submission
    second = make.report("http://r.example.com/3").submission
    assert first.reference.endswith("-S-2026-000001")
    assert second.reference.endswith("-S-2026-000002")
    assert [c.reference for c in first.cases + second.cases] == [
        "CM-2026-000001",
        "CM-2026-000002",
        "CM-2026-000003",
    ]


def test_every_case_has_its_receive_event(app, make):
    original = make.case("new", url="http://r.example.com/known")
    result = make.report("http://r.example.com/known", "http://r.example.com/new")
    duplicate, fresh = result.submission.cases
    events = {
        e.case_id: e
        for e in db.session.scalars(select(CaseEvent).where(CaseEvent.action == "receive"))
    }
    assert events[duplicate.id].to_status == "closed"
    assert events[duplicate.id].fields["duplicate_of"] == original.reference
    assert events[fresh.id].to_status == "new" and "duplicate_of" not in events[fresh.id].fields
    assert duplicate.duplicate_of.id == original.id and duplicate.version == 1


def test_counters_are_created_on_first_use_and_advance_together(app):
    assert receiving.reserve_numbers(db.session, {"a-2026": 3, "b-2026": 1}) == {
        "a-2026": 3,
        "b-2026": 1,
    }
    assert receiving.reserve_numbers(db.session, {"a-2026": 2}) == {"a-2026": 5}
    assert receiving.next_number(db.session, "b-2026") == 2


def test_the_language_is_recorded_when_it_is_one_of_ours(app, make):
    assert make.report(language="km").submission.language == "km"
    assert make.report().submission.language is None


@pytest.mark.parametrize(("language", "languages"), [("fr", ("en", "km")), ("km", ())])
def test_a_language_that_is_not_one_of_ours_is_refused(language, languages):
    report = receiving.ReportInput(
        urls=["http://r.example.com/1"], source="public", language=language
    )
    with pytest.raises(ValidationFailed) as refused:
        report.validate(50, languages=languages)
    assert list(refused.value.fields) == ["language"]

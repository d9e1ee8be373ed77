"""Receiving reports (casemgr.cases.receiving): one case per URL, references reserved in
one go, one event per case, duplicates linked."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.cases import receiving
from casemgr.cases.models import Case, CaseEvent, Submission
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


class TestReceiveReport:
    def test_one_case_per_distinct_url_with_shared_submission(self, make):
        result = make.report(
            "http://a.example.com/1", "http://b.example.com/2", "http://a.example.com/1"
        )
        submission = result.submission
        assert result.created
        assert [c.url for c in submission.cases] == [
            "http://a.example.com/1",
            "http://b.example.com/2",
        ]
        assert submission.reference == "CM-S-2026-000001"
        assert [c.reference for c in submission.cases] == ["CM-2026-000001", "CM-2026-000002"]
        assert all(c.status == "new" and c.submission_id == submission.id for c in submission.cases)

    def test_receipt_sets_the_assessment_clock_and_records_an_event(self, make, clock):
        case = make.report("http://a.example.com/1").submission.cases[0]
        assert case.received_at == clock.now()
        assert case.due_at == clock.now() + timedelta(hours=24)
        assert case.host == "a.example.com"
        [event] = case.events
        assert (event.action, event.from_status, event.to_status) == ("receive", None, "new")

    def test_a_url_with_an_open_case_becomes_a_closed_duplicate(self, make):
        original = make.report("http://a.example.com/1").submission.cases[0]
        again = make.report("http://a.example.com/1").submission.cases[0]
        assert (again.status, again.resolution) == ("closed", "duplicate")
        assert again.duplicate_of_id == original.id
        assert again.events[0].fields["duplicate_of"] == original.reference

    def test_a_url_whose_case_is_closed_is_worked_again(self, make):
        closed = make.case("closed", url="http://a.example.com/1")
        again = make.report("http://a.example.com/1").submission.cases[0]
        assert closed.status == "closed"
        assert (again.status, again.duplicate_of_id) == ("new", None)

    def test_contact_is_encrypted_at_rest(self, make):
        submission = make.report(
            "http://a.example.com/1", reporter_contact="me@example.net", feedback_requested=True
        ).submission
        stored = db.session.scalar(select(Submission.reporter_contact))
        assert b"me@example.net" not in stored
        assert context.cipher().decrypt(stored) == "me@example.net"
        assert submission.feedback_requested

    def test_feedback_needs_a_contact(self, make):
        submission = make.report("http://a.example.com/1", feedback_requested=True).submission
        assert submission.feedback_requested is False

    def test_same_external_reference_from_same_submitter_is_idempotent(self, make, analyst):
        first = make.report(
            "http://a.example.com/1",
            submitted_by=analyst,
            source="partner",
            external_reference="P-1",
        )
        second = make.report(
            "http://b.example.com/2",
            submitted_by=analyst,
            source="partner",
            external_reference="P-1",
        )
        assert not second.created
        assert second.submission.id == first.submission.id
        assert db.session.scalar(select(db.func.count()).select_from(Case)) == 1

    def test_same_external_reference_from_another_submitter_is_new(self, make, analyst, supervisor):
        make.report(submitted_by=analyst, source="partner", external_reference="P-1")
        other = make.report(submitted_by=supervisor, source="partner", external_reference="P-1")
        assert other.created

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"urls": []}, "urls"),
            ({"urls": [f"http://e.example.com/{i}" for i in range(51)]}, "urls"),
            ({"source": "pigeon"}, "source"),
            ({"description": "x" * 5001}, "description"),
            ({"external_reference": "r" * 121}, "external_reference"),
            ({"reporter_contact": "c\x00"}, "reporter_contact"),
        ],
    )
    def test_bad_reports_are_refused_whole(self, app, changes, field):
        report = receiving.ReportInput(
            **{"urls": ["http://a.example.com/"], "source": "public", **changes}
        )
        with pytest.raises(ValidationFailed) as refused:
            receiving.receive_report(
                db.session,
                report,
                now=context.now(),
                timings=context.timings(),
                cipher=context.cipher(),
                reference_prefix="CM",
            )
        assert field in refused.value.fields
        db.session.rollback()
        assert db.session.scalar(select(db.func.count()).select_from(Submission)) == 0


@pytest.mark.postgres
def test_references_are_unique_under_concurrency(app, backend):
    if backend != "postgresql":
        pytest.skip("needs concurrent writers")
    numbers: list[int] = []
    errors: list[Exception] = []

    def take(count: int) -> None:
        with app.app_context():
            try:
                for _ in range(count):
                    numbers.append(receiving.next_number(db.session, "race"))
                    db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=take, args=(25,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(numbers) == list(range(1, 101))

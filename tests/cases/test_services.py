"""Receiving reports and acting on cases, against a real database."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.cases import queries, receiving
from casemgr.cases import services as cases
from casemgr.cases.models import Case, CaseEvent, Submission
from casemgr.cases.workflow import Action
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import InvalidTransition, PermissionDenied, StaleVersion, ValidationFailed
from casemgr.extensions import db
from tests.factories import STATES


def act(case, action, fields=None, *, actor, **kwargs):
    return cases.apply_action(
        db.session,
        case,
        action,
        fields or {},
        actor=actor.actor if hasattr(actor, "actor") else actor,
        now=context.now(),
        timings=context.timings(),
        **kwargs,
    )


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


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", [a.value for a in Action])
def test_every_action_from_every_state_on_the_database(make, supervisor, state, action):
    """What the service accepts is exactly what allowed_actions promised."""
    case = make.case(state, by=supervisor)
    actor = SYSTEM_ACTOR if action == "send_notice" else supervisor.actor
    allowed = action in cases.allowed_actions(case, actor)
    fields = {
        "assess": make.ILLEGAL,
        "mark_duplicate": {"duplicate_of": make.case("new").id},
        "request_notice": {"provider_id": make.organisation().id},
        "forward_to_partner": {"partner_id": make.organisation("hotline").id},
        "refer_to_police": {"police_id": make.organisation("police").id},
        "release_hold": {"reason": "Investigation finished"},
        "confirm_takedown": {"removed_at": context.now().isoformat()},
        "reopen": {"reason": "It came back"},
    }.get(action, {})
    before = (case.status, case.version, len(case.events))
    if allowed:
        event = act(case, action, fields, actor=actor)
        db.session.commit()
        assert (event.from_status, event.to_status) == (before[0], case.status)
        assert case.version == before[1] + 1
    else:
        with pytest.raises((InvalidTransition, PermissionDenied)):
            act(case, action, fields, actor=actor)
        db.session.rollback()
        assert (case.status, case.version, len(case.events)) == before


class TestEffects:
    def test_assess_illegal_records_the_classification(self, make, analyst):
        case = make.case("triage", by=analyst)
        act(case, "assess", dict(make.ILLEGAL, hosting_ip="192.0.2.7"), actor=analyst)
        assert case.status == "action_required"
        assert (case.classification, case.hosting_country, case.hosting_ip) == (
            "illegal_baseline",
            "KH",
            "192.0.2.7",
        )
        assert case.assessed_at == context.now()
        assert case.assessed_by_id == analyst.id
        assert case.due_at is None

    def test_notice_sent_starts_the_takedown_clock(self, make, analyst, clock):
        case = make.case("notice_pending", by=analyst)
        act(case, "send_notice", actor=SYSTEM_ACTOR)
        assert case.notice_sent_at == clock.now()
        assert case.due_at == case.next_reminder_at == clock.now() + timedelta(hours=72)
        assert case.first_action_at is not None

    def test_takedown_due_can_differ_by_hosting_country(self, app, make, analyst, clock):
        from casemgr.settings import Timings

        timings = Timings(takedown_due_by_country={"KH": timedelta(hours=24)})
        case = make.case("notice_pending", by=analyst)
        cases.apply_action(
            db.session,
            case,
            "send_notice",
            {},
            actor=SYSTEM_ACTOR,
            now=clock.now(),
            timings=timings,
        )
        assert case.due_at == clock.now() + timedelta(hours=24)

    def test_forwarding_starts_the_partner_reminder(self, make, analyst, clock):
        case = make.case("forwarded", by=analyst)
        assert case.due_at == case.forwarded_at + timedelta(days=7)

    def test_police_hold_stops_the_takedown_clock_and_sets_a_review(self, make, analyst):
        case = make.case("with_police_hold", by=analyst)
        assert case.police_hold and case.due_at is None
        assert case.next_reminder_at == case.hold_since + timedelta(days=30)

    def test_release_hold_restarts_the_clock(self, make, supervisor, clock):
        case = make.case("with_police_hold", by=supervisor)
        act(case, "release_hold", {"reason": "done"}, actor=supervisor)
        assert not case.police_hold and case.hold_since is None
        assert case.due_at == clock.now() + timedelta(hours=72)

    def test_confirm_takedown_stops_every_reminder(self, make, analyst, clock):
        case = make.case("notice_sent", by=analyst)
        removed = clock.now() - timedelta(minutes=5)
        act(case, "confirm_takedown", {"removed_at": removed.isoformat()}, actor=analyst)
        assert (case.status, case.resolution) == ("closed", "takedown_confirmed")
        assert case.removed_at == removed and case.closed_at == clock.now()
        assert case.next_reminder_at is None and case.due_at is None

    def test_reopen_clears_the_resolution(self, make, supervisor, clock):
        case = make.case("closed", by=supervisor)
        act(case, "reopen", {"reason": "came back"}, actor=supervisor)
        assert (case.status, case.resolution, case.closed_at) == ("triage", None, None)
        assert case.due_at == clock.now() + timedelta(hours=24)

    def test_events_record_who_what_and_the_fields(self, make, analyst):
        case = make.case("new")
        act(case, "assign", actor=analyst)
        db.session.commit()
        event = db.session.scalars(select(CaseEvent).order_by(CaseEvent.id.desc())).first()
        assert (event.actor_id, event.action, event.from_status, event.to_status) == (
            analyst.id,
            "assign",
            "new",
            "triage",
        )
        assert event.fields == {"assignee_id": analyst.id}


class TestRefusals:
    def test_a_refusal_leaves_the_case_unchanged(self, make, analyst):
        case = make.case("triage", by=analyst)
        with pytest.raises(ValidationFailed):
            act(case, "assess", {"classification": "illegal_baseline"}, actor=analyst)
        db.session.rollback()
        db.session.refresh(case)
        assert (case.status, case.classification, case.version) == ("triage", None, 2)

    def test_stale_version_names_who_changed_it(self, make, analyst):
        case = make.case("triage", by=analyst)
        with pytest.raises(StaleVersion, match=analyst.name):
            act(case, "assess", make.ILLEGAL, actor=analyst, expected_version=case.version - 1)

    def test_assignee_must_exist_and_be_active(self, make, supervisor):
        inactive = make.user("analyst", active=False)
        case = make.case("new")
        for assignee in (inactive.id, 99999):
            with pytest.raises(ValidationFailed):
                act(case, "assign", {"assignee_id": assignee}, actor=supervisor)

    def test_organisation_must_be_of_the_right_kind(self, make, analyst):
        case = make.case("action_required", by=analyst)
        hotline = make.organisation("hotline")
        with pytest.raises(ValidationFailed) as refused:
            act(case, "request_notice", {"provider_id": hotline.id}, actor=analyst)
        assert "provider_id" in refused.value.fields


def test_contact_viewing_is_audited(make, supervisor):
    submission = make.report(reporter_contact="call me: 012 345 678").submission
    shown = cases.reveal_contact(
        db.session, submission, cipher=context.cipher(), actor=supervisor.actor, now=context.now()
    )
    assert shown == "call me: 012 345 678"
    db.session.commit()  # the audit entry is written with the transaction
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.view"))
    assert (entry.actor_id, entry.target_id) == (supervisor.id, str(submission.id))


class TestQueue:
    def page(self, user, **filters):
        return queries.queue(
            db.session, queries.QueueFilter(**filters), user_id=user.id, now=context.now()
        )

    def test_views(self, make, analyst, clock):
        mine = make.case("triage", by=analyst, at=clock.now() - timedelta(days=2))
        fresh = make.report(at=clock.now()).submission.cases[0]
        old = make.case("new", at=clock.now() - timedelta(days=3))
        closed = make.case("closed")
        ids = lambda page: [c.id for c in page.items]  # noqa: E731
        assert ids(self.page(analyst, view="mine")) == [mine.id]
        assert set(ids(self.page(analyst, view="unassigned"))) == {fresh.id, old.id}
        assert set(ids(self.page(analyst, view="overdue"))) == {mine.id, old.id}
        assert closed.id not in ids(self.page(analyst, view="open"))
        assert closed.id in ids(self.page(analyst, view="all"))

    def test_newest_first_and_paginated(self, make, analyst, clock):
        made = [
            make.report(at=clock.now() - timedelta(hours=h)).submission.cases[0] for h in range(5)
        ]
        page = queries.queue(
            db.session,
            queries.QueueFilter(),
            user_id=analyst.id,
            now=clock.now(),
            page=2,
            per_page=2,
        )
        assert (page.total, page.pages) == (5, 3)
        assert [c.id for c in page.items] == [made[2].id, made[3].id]

    @pytest.mark.parametrize(
        "query",
        [
            "CM-2026-000001",
            "cm-2026-000001",
            "http://a.example.com/x",
            "A.EXAMPLE.COM/x",
            "a.example.com",
            "CM-S-2026-000001",
        ],
    )
    def test_search(self, make, analyst, query):
        target = make.report("http://a.example.com/x").submission.cases[0]
        make.report("http://b.example.com/x")
        assert [c.id for c in self.page(analyst, q=query).items] == [target.id]

    def test_filters(self, make, analyst):
        case = make.case("action_required", by=analyst)
        make.case("triage", by=analyst)
        found = self.page(
            analyst,
            status="action_required",
            classification="illegal_baseline",
            hosting_country="KH",
        )
        assert [c.id for c in found.items] == [case.id]

    def test_a_closed_state_in_an_open_view_finds_nothing(self, make, analyst):
        make.case("closed")
        page = self.page(analyst, view="open", status="closed")
        assert (page.items, page.total) == ([], 0)
        assert self.page(analyst, view="all", status="closed").total == 1

    def test_a_host_finds_every_case_on_it_its_root_url_too(self, make, analyst):
        root = make.report("http://a.example.com/").submission.cases[0]
        deeper = make.report("http://a.example.com/x").submission.cases[0]
        make.report("http://b.example.com/")
        found = self.page(analyst, q="a.example.com").items
        assert sorted(c.id for c in found) == [root.id, deeper.id]

    def test_text_that_is_no_reference_url_or_host_finds_nothing(self, make, analyst):
        make.case("new")
        assert self.page(analyst, q="nothing like it").items == []


class TestQueueCounts:
    """Lists are counted up to EXACT_COUNT_LIMIT; PostgreSQL estimates longer ones."""

    @pytest.fixture(autouse=True)
    def small_limit(self, monkeypatch):
        monkeypatch.setattr(queries, "EXACT_COUNT_LIMIT", 2)

    def page(self, user, *, page=1, per_page=3, **filters):
        return queries.queue(
            db.session,
            queries.QueueFilter(**filters),
            user_id=user.id,
            now=context.now(),
            page=page,
            per_page=per_page,
        )

    def test_up_to_the_limit_the_total_is_exact(self, make, analyst):
        for _ in range(2):
            make.case("closed")
        page = self.page(analyst, view="all")
        assert (page.total, page.total_is_estimate, page.has_next) == (2, False, False)

    def test_a_longer_list_is_estimated_on_postgresql_counted_on_sqlite(
        self, make, analyst, backend
    ):
        for _ in range(4):
            make.case("closed")
        first, second = self.page(analyst, view="all"), self.page(analyst, view="all", page=2)
        assert [len(first.items), len(second.items)] == [3, 1]
        if backend == "postgresql":
            assert first.total_is_estimate and first.total >= 3
            assert first.has_next and not second.has_next  # full page: maybe more; short: the end
        else:
            assert (first.total, first.total_is_estimate) == (4, False)
            assert first.has_next and not second.has_next

    def test_a_state_in_the_open_view_counts_that_state_only(self, make, analyst):
        make.case("triage", by=analyst)
        for _ in range(2):
            make.case("new")
        page = self.page(analyst, view="open", status="triage")
        assert (page.total, len(page.items)) == (1, 1)

    def test_the_open_backlog_is_always_counted_exactly(self, make, analyst):
        for state in ("new", "triage", "notice_sent", "with_police"):
            make.case(state, by=analyst)
        make.case("closed")
        page = self.page(analyst, view="open")
        assert (page.total, page.total_is_estimate) == (4, False)


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


class TestRecordEvent:
    def test_records_history_without_changing_state(self, app, make):
        case = make.case("notice_sent")
        version, status = case.version, case.status
        event = cases.record_event(
            db.session,
            case,
            "reminder_sent",
            actor=SYSTEM_ACTOR,
            now=context.now(),
            fields={"notice": "CM-N-2026-000001", "at": context.now()},
        )
        db.session.commit()
        assert (event.from_status, event.to_status) == (status, status)
        assert event.actor_id is None
        assert event.fields == {"notice": "CM-N-2026-000001", "at": "2026-11-28T09:00:00+00:00"}
        assert case.status == status and case.version == version

    def test_refuses_workflow_actions(self, app, make):
        case = make.case("notice_sent")
        with pytest.raises(ValueError, match="apply_action"):
            cases.record_event(
                db.session, case, "confirm_takedown", actor=SYSTEM_ACTOR, now=context.now()
            )

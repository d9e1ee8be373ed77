"""Acting on cases (casemgr.cases.services), against a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.cases import services as cases
from casemgr.cases.models import Case, CaseEvent
from casemgr.cases.states import Action
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import InvalidTransition, PermissionDenied, StaleVersion, ValidationFailed
from casemgr.extensions import db
from casemgr.settings import ContactViewers
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


def test_every_change_the_workflow_asks_for_is_a_column_of_the_case():
    """apply_action writes the transition's changes with setattr: a misspelt name
    would be set on the object and silently never stored."""
    from tests.cases.test_workflow import EFFECTS

    columns = set(Case.__table__.columns.keys())
    for action, _situation, _fields, _actor, changes in EFFECTS:
        assert set(changes) <= columns, action


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


def reveal(case, actor, viewers=ContactViewers.ASSIGNEE):
    return cases.reveal_contact(
        db.session, case, reason="a call back", viewers=viewers,
        cipher=context.cipher(), actor=actor, now=context.now(),
    )  # fmt: skip


def test_contact_viewing_is_audited(make, supervisor):
    submission = make.report(reporter_contact="call me: 012 345 678").submission
    shown = reveal(submission.cases[0], supervisor.actor)
    assert shown == "call me: 012 345 678"
    db.session.commit()  # the audit entry is written with the transaction
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.view"))
    assert (entry.actor_id, entry.target_id) == (supervisor.id, str(submission.id))
    assert entry.details["reason"] == "a call back"


def test_contact_viewing_by_one_without_a_need_to_know_is_refused(make, analyst):
    case = make.report(reporter_contact="call me: 012 345 678").submission.cases[0]
    for viewers in (ContactViewers.ASSIGNEE, ContactViewers.SUPERVISORS):
        with pytest.raises(PermissionDenied, match="reporter's contact"):
            reveal(case, analyst.actor, viewers)
    assert reveal(case, analyst.actor, ContactViewers.ANALYSTS) == "call me: 012 345 678"
    assert cases.contact_refusal(case, analyst.actor, ContactViewers.ASSIGNEE) is not None


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

"""casemgr.cases.bulk: one action on many cases, each through the workflow on its own."""

from __future__ import annotations

import gc
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from casemgr import context, events
from casemgr.audit.models import AuditEntry
from casemgr.cases import bulk
from casemgr.cases.models import Case, CaseEvent
from casemgr.database import MAX_ID
from casemgr.errors import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from casemgr.extensions import db


def run(action, cases_or_ids, fields=None, *, actor, versions=None):
    ids = [getattr(item, "id", item) for item in cases_or_ids]
    outcomes = bulk.apply_to_many(
        db.session,
        action,
        ids,
        fields or {},
        actor=actor.actor,
        now=context.now(),
        timings=context.timings(),
        versions=versions,
    )
    db.session.commit()
    return outcomes


def status_of(case: Case) -> str:
    db.session.expire_all()
    return db.session.get(Case, case.id).status


def summary(outcomes) -> list[tuple[int, bool, str | None]]:
    return [(o.case_id, o.ok, type(o.error).__name__ if o.error else None) for o in outcomes]


def events_of(case: Case) -> list[str]:
    return list(
        db.session.scalars(
            select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )


def audited(case: Case) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.details["action"].as_string())
            .where(AuditEntry.action == "case.action", AuditEntry.target_id == str(case.id))
            .order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def acted():
    """The cases ``events.case_acted`` was sent for, in order (clear it once the
    cases are built: the builders act on them too)."""
    seen: list[int] = []

    def receiver(session, *, case, **_):
        seen.append(case.id)

    events.case_acted.connect(receiver)
    yield seen
    events.case_acted.disconnect(receiver)


# --- each action: what goes through, what is reported back


def test_take_assigns_to_the_actor_and_reports_the_rest(make, analyst, acted):
    mine, unassigned = make.case("new"), make.case("new")
    colleagues = make.case("triage")
    closed = make.case("closed")
    acted.clear()
    outcomes = run("take", [unassigned, colleagues, closed, 999_999, mine], actor=analyst)
    assert summary(outcomes) == [
        (unassigned.id, True, None),
        (colleagues.id, False, "PermissionDenied"),
        (closed.id, False, "InvalidTransition"),
        (999_999, False, "NotFound"),
        (mine.id, True, None),
    ]
    assert outcomes[0].case.assignee_id == analyst.id and outcomes[0].case.status == "triage"
    assert outcomes[1].case.id == colleagues.id  # as found
    assert outcomes[3].case is None and str(outcomes[3].error) == "no case with id 999999"
    assert outcomes[2].error.allowed_actions == []
    assert sorted(acted) == sorted([unassigned.id, mine.id])
    for case in (unassigned, mine):
        assert events_of(case)[-1] == "assign" and audited(case) == ["assign"]
    assert events_of(colleagues) == ["receive", "assign"] and audited(colleagues) == ["assign"]


def test_assign_by_a_supervisor_and_refused_to_an_analyst(make, supervisor, analyst):
    colleague = make.user("analyst")
    first, second = make.case("new"), make.case("new")
    outcomes = run("assign", [first], {"assignee_id": colleague.id}, actor=supervisor)
    assert outcomes[0].ok and outcomes[0].case.assignee_id == colleague.id
    outcomes = run("assign", [second], {"assignee_id": colleague.id}, actor=analyst)
    assert outcomes[0].error.fields == {
        "assignee_id": ["only a supervisor can give a case to someone else"]
    }
    assert status_of(second) == "new"


def test_assess_what_the_actor_may(make, analyst, acted):
    mine = make.case("triage", by=analyst)
    theirs = make.case("triage")
    assessed = make.case("action_required", by=analyst)
    acted.clear()
    outcomes = run("assess", [mine, theirs, assessed], make.ILLEGAL, actor=analyst)
    assert summary(outcomes) == [
        (mine.id, True, None),
        (theirs.id, False, "PermissionDenied"),
        (assessed.id, False, "InvalidTransition"),
    ]
    assert outcomes[0].case.status == "action_required"
    assert outcomes[0].case.classification == "illegal_baseline"
    assert "assess" not in outcomes[2].error.allowed_actions
    assert status_of(theirs) == "triage" and acted == [mine.id]


def test_assess_as_legal_closes_each_case(make, supervisor):
    cases = [make.case("triage") for _ in range(3)]
    outcomes = run("assess", cases, {"classification": "not_illegal"}, actor=supervisor)
    assert all(o.ok and o.case.resolution == "not_illegal" for o in outcomes)


def test_mark_duplicate_by_reference(make, analyst):
    original = make.case("triage", by=analyst)
    copies = [make.case("new"), make.case("triage", by=analyst)]
    fields = {"duplicate_of": original.reference.lower()}
    outcomes = run("mark_duplicate", [*copies, original], fields, actor=analyst)
    assert summary(outcomes)[:2] == [(copies[0].id, True, None), (copies[1].id, True, None)]
    assert all(o.case.duplicate_of_id == original.id for o in outcomes[:2])
    assert outcomes[2].error.fields == {"duplicate_of": ["a case cannot be a duplicate of itself"]}
    event = db.session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == copies[0].id).order_by(CaseEvent.id.desc())
    )
    assert event.fields == {"duplicate_of": original.id}


def test_mark_duplicate_of_a_reference_that_names_no_case(make, analyst):
    case = make.case("new")
    outcomes = run("mark_duplicate", [case], {"duplicate_of": "CM-1999-000001"}, actor=analyst)
    assert outcomes[0].error.fields == {"duplicate_of": ["no case with this id or reference"]}


def test_close_unavailable(make, analyst):
    cases = [make.case("triage", by=analyst), make.case("action_required", by=analyst)]
    cases.append(make.case("new"))
    outcomes = run("close_unavailable", cases, actor=analyst)
    assert summary(outcomes)[2] == (cases[2].id, False, "InvalidTransition")
    assert [o.case.resolution for o in outcomes[:2]] == ["content_unavailable"] * 2


@pytest.mark.parametrize("action", ["close_unavailable", "mark_duplicate"])
def test_closing_refuses_a_colleagues_case_and_closes_the_rest(make, analyst, action):
    original = make.case("triage", by=analyst)
    fields = {"duplicate_of": original.id} if action == "mark_duplicate" else {}
    theirs = make.case("triage", by=make.user("analyst"))
    mine = make.case("triage", by=analyst)
    outcomes = run(action, [theirs, mine], fields, actor=analyst)
    assert summary(outcomes) == [(theirs.id, False, "PermissionDenied"), (mine.id, True, None)]
    assert "only the assignee or a supervisor can close it" in str(outcomes[0].error)
    assert status_of(theirs) == "triage" and audited(theirs) == ["assign"]
    outcomes = run(action, [theirs], fields, actor=make.user("supervisor"))
    assert summary(outcomes) == [(theirs.id, True, None)]


def test_a_new_case_nobody_holds_may_be_marked_duplicate_by_any_analyst(make, analyst):
    original = make.case("triage", by=analyst)
    nobodys = make.case("new")
    outcomes = run("mark_duplicate", [nobodys], {"duplicate_of": original.id}, actor=analyst)
    assert summary(outcomes) == [(nobodys.id, True, None)]


def test_request_notice_skips_a_police_hold(make, analyst):
    provider = make.organisation("hosting_provider")
    ready, released = make.case("action_required"), make.case("with_police")
    held = make.case("with_police_hold")
    fields = {"provider_id": provider.id}
    outcomes = run("request_notice", [ready, held, released], fields, actor=analyst)
    assert summary(outcomes) == [
        (ready.id, True, None),
        (held.id, False, "InvalidTransition"),
        (released.id, True, None),
    ]
    assert {o.case.provider_id for o in outcomes if o.ok} == {provider.id}


def test_an_organisation_of_the_wrong_kind_is_refused_case_by_case(make, analyst):
    hotline = make.organisation("hotline")
    ready, pending = make.case("action_required"), make.case("notice_pending")
    outcomes = run("request_notice", [ready, pending], {"provider_id": hotline.id}, actor=analyst)
    assert outcomes[0].error.fields == {
        "provider_id": ["must be the id of an organisation of kind hosting_provider"]
    }
    assert isinstance(outcomes[1].error, InvalidTransition)


def test_forward_to_partner_needs_a_reason_for_another_country(make, analyst):
    partner = make.organisation("hotline", country="TH")
    cases = [make.case("action_required"), make.case("action_required")]
    outcomes = run("forward_to_partner", cases, {"partner_id": partner.id}, actor=analyst)
    assert all("reason" in o.error.fields for o in outcomes)
    fields = {"partner_id": partner.id, "reason": "their hotline acts faster"}
    outcomes = run("forward_to_partner", cases, fields, actor=analyst)
    assert all(o.ok and o.case.status == "forwarded" for o in outcomes)


def test_refer_to_police_with_a_hold(make, analyst):
    police = make.organisation("police")
    cases = [make.case("action_required"), make.case("notice_sent"), make.case("triage")]
    outcomes = run("refer_to_police", cases, {"police_id": police.id, "hold": True}, actor=analyst)
    assert summary(outcomes)[2] == (cases[2].id, False, "InvalidTransition")
    assert all(o.case.police_hold for o in outcomes[:2])


def test_confirm_takedown_checks_each_case_received_time(make, analyst):
    early = make.case("notice_sent", at=context.now() - timedelta(days=5))
    late = make.case("forwarded", at=context.now() - timedelta(hours=2))
    removed = (context.now() - timedelta(days=1)).isoformat()
    outcomes = run("confirm_takedown", [early, late], {"removed_at": removed}, actor=analyst)
    assert outcomes[0].ok and outcomes[0].case.resolution == "takedown_confirmed"
    assert outcomes[1].error.fields == {
        "removed_at": ["must not be before the report was received"]
    }
    assert status_of(late) == "forwarded"


def test_add_note_in_any_state_without_changing_the_version(make, analyst):
    cases = [make.case("new"), make.case("closed"), make.case("with_police_hold")]
    versions = [case.version for case in cases]
    body = {"body": " Called them.\r\nNo answer. "}
    outcomes = run("add_note", [*cases, 999_999], body, actor=analyst)
    assert summary(outcomes)[3] == (999_999, False, "NotFound")
    for outcome, version in zip(outcomes, versions, strict=False):
        assert outcome.ok and outcome.case.version == version
        assert [note.body for note in outcome.case.notes] == ["Called them.\nNo answer."]
    assert all(events_of(case)[-1] != "add_note" for case in cases)  # not a workflow action
    notes_audited = db.session.scalars(
        select(AuditEntry.target_id).where(AuditEntry.action == "case.note")
    ).all()
    assert sorted(notes_audited) == sorted(str(case.id) for case in cases)


def test_add_note_checks_the_version_when_given(make, analyst):
    case = make.case("triage")
    outcomes = run("add_note", [case], {"body": "x"}, actor=analyst, versions={case.id: 1})
    assert isinstance(outcomes[0].error, StaleVersion)
    assert outcomes[0].error.current_version == case.version
    assert case.notes == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "is required"),
        ("", "empty"),
        (" \n ", "empty"),
        (["a"], "must be text"),
        ("nul \x00", "control characters"),
        ("x" * 4001, "at most 4,000 characters"),
    ],
)
def test_a_bad_note_is_refused_before_any_case(make, analyst, body, message):
    fields = _nothing_changed(make, analyst, "add_note", ["case"], {"body": body})
    assert list(fields) == ["body"] and message in fields["body"][0]


# --- versions, deleted cases, order


def test_a_stale_version_refuses_that_case_only(make, supervisor, analyst):
    fresh, moved = make.case("triage", by=analyst), make.case("triage", by=analyst)
    versions = {fresh.id: fresh.version, moved.id: moved.version - 1}
    outcomes = run("assess", [fresh, moved], make.ILLEGAL, actor=supervisor, versions=versions)
    assert outcomes[0].ok
    error = outcomes[1].error
    assert isinstance(error, StaleVersion)
    assert error.current_version == moved.version and error.changed_by == analyst.name
    assert status_of(moved) == "triage"


def test_a_case_changed_at_the_moment_of_writing_is_stale(make, supervisor):
    first, second = make.case("new"), make.case("new")
    loaded_version = second.version

    def bump_the_other(session, *, case, **_):
        if case.id == first.id:  # a concurrent writer, as far as the ORM can tell
            session.connection().execute(
                text("UPDATE cases SET version = version + 1 WHERE id = :id"), {"id": second.id}
            )

    events.case_acted.connect(bump_the_other)
    try:
        outcomes = run("take", [first, second], actor=supervisor)
    finally:
        events.case_acted.disconnect(bump_the_other)
    assert outcomes[0].ok
    error = outcomes[1].error
    assert isinstance(error, StaleVersion) and error.current_version == loaded_version + 1
    assert status_of(second) == "new" and events_of(second) == ["receive"]


def test_a_deleted_case_is_not_found(make, analyst):
    kept, deleted = make.case("new"), make.case("new")
    deleted_id = deleted.id
    db.session.execute(text("DELETE FROM cases WHERE id = :id"), {"id": deleted_id})
    db.session.commit()
    outcomes = run("take", [deleted_id, kept], actor=analyst)
    assert isinstance(outcomes[0].error, NotFound) and outcomes[0].case is None
    assert outcomes[1].ok


def test_cases_are_acted_on_in_id_order_and_answered_in_the_order_given(make, supervisor, acted):
    cases = [make.case("new") for _ in range(3)]
    acted.clear()
    given = [cases[2], cases[0], cases[1]]
    outcomes = run("take", given, actor=supervisor)
    assert [o.case_id for o in outcomes] == [case.id for case in given]
    assert acted == sorted(case.id for case in cases)


# --- a failure inside one case leaves nothing of it


def test_a_case_that_fails_midway_leaves_nothing_behind(make, supervisor, acted):
    cases = [make.case("new") for _ in range(3)]
    failing = cases[1]

    def refuse_one(session, *, case, **_):
        if case.id == failing.id:  # after its change, event and audit entry were made
            raise PermissionDenied("refused by a test receiver")

    events.case_acted.connect(refuse_one)
    try:
        outcomes = run("take", cases, actor=supervisor)
    finally:
        events.case_acted.disconnect(refuse_one)
    assert summary(outcomes) == [
        (cases[0].id, True, None),
        (failing.id, False, "PermissionDenied"),
        (cases[2].id, True, None),
    ]
    assert outcomes[1].case.status == "new" and outcomes[1].case.assignee_id is None
    db.session.expire_all()
    failed = db.session.get(Case, failing.id)
    assert (failed.status, failed.assignee_id, failed.version) == ("new", None, 1)
    assert events_of(failed) == ["receive"] and audited(failed) == []
    for case in (cases[0], cases[2]):
        assert status_of(case) == "triage" and audited(case) == ["assign"]


# --- the request as a whole: refused before any case is touched


def _nothing_changed(make, analyst, action, ids, fields=None, versions=None):
    case = make.case("new")
    before = db.session.scalar(select(func.count()).select_from(CaseEvent))
    with pytest.raises(ValidationFailed) as refused:
        bulk.apply_to_many(
            db.session,
            action,
            [case.id if item == "case" else item for item in ids] if isinstance(ids, list) else ids,
            fields or {},
            actor=analyst.actor,
            now=context.now(),
            timings=context.timings(),
            versions=versions,
        )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == before
    assert status_of(case) == "new"
    return refused.value.fields


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([], "must list at least one case"),
        ("12", "must be a list of case ids"),
        (12, "must be a list of case ids"),
        (list(range(1, bulk.MAX_BULK_CASES + 2)), "must list at most 500 cases at once (501"),
        (["case", "12"], "case_ids[1]: must be a case id"),
        (["case", True], "case_ids[1]: must be a case id"),
        (["case", 1.0], "case_ids[1]: must be a case id"),
        ([0, "case"], "case_ids[0]: must be a case id"),
        (["case", MAX_ID + 1], "case_ids[1]: must be a case id"),
        (["case", None], "case_ids[1]: must be a case id"),
        (["case", "case"], "is listed more than once"),
    ],
)
def test_malformed_ids_are_refused(make, analyst, ids, message):
    fields = _nothing_changed(make, analyst, "take", ids)
    assert list(fields) == ["case_ids"] and message in fields["case_ids"][0]


def test_the_limit_itself_is_accepted(make, analyst):
    ids = list(range(MAX_ID - bulk.MAX_BULK_CASES + 1, MAX_ID + 1))
    outcomes = run("take", ids, actor=analyst)
    assert len(outcomes) == bulk.MAX_BULK_CASES and not any(o.ok for o in outcomes)


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        ([1], "must map case ids"),
        ({"x": 1}, "'x' is not a case id"),
        ({12345: 1}, "case 12345 is not in case_ids"),
        ({"case": -1}, "must be the case's version"),
        ({"case": True}, "must be the case's version"),
        ({"case": "3"}, "must be the case's version"),
    ],
)
def test_malformed_versions_are_refused(make, analyst, versions, message):
    case = make.case("new")
    if isinstance(versions, dict):
        versions = {case.id if k == "case" else k: v for k, v in versions.items()}
    fields = _nothing_changed(make, analyst, "take", [case.id], versions=versions)
    assert list(fields) == ["versions"] and message in fields["versions"][0]


def test_the_actions_fields_are_checked_once_for_all(make, analyst):
    fields = _nothing_changed(
        make, analyst, "assess", ["case"], {"classification": "illegal_baseline"}
    )
    assert fields == {
        "media_type": ["is required"],
        "site_type": ["is required"],
        "hosting_country": ["is required"],
    }
    fields = _nothing_changed(make, analyst, "request_notice", ["case"], {"provider_id": "x"})
    assert fields == {"provider_id": ["must be a whole number"]}


@pytest.mark.parametrize("action", ["reopen", "release_hold", "send_notice", "nope"])
def test_actions_that_are_not_bulk_actions_are_refused(make, analyst, action):
    fields = _nothing_changed(make, analyst, action, ["case"])
    assert list(fields) == ["action"]


# --- no N+1


@pytest.mark.parametrize("action", ["request_notice", "add_note"])
def test_statements_per_case_do_not_grow_with_the_number_of_cases(make, supervisor, action):
    provider_id = make.organisation("hosting_provider").id  # and nothing holds it
    fields = {"provider_id": provider_id, "body": "Called the provider."}
    counts = []
    for size in (2, 6):
        ids = [make.case("action_required").id for _ in range(size)]
        db.session.expire_all()  # nothing cached from building them
        gc.collect()
        statements: list[str] = []

        def count(conn, cursor, statement, *args, statements=statements):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            outcomes = run(action, ids, fields, actor=supervisor)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert all(o.ok for o in outcomes)
        counts.append(len(statements))
    per_case = (counts[1] - counts[0]) / 4
    # SAVEPOINT, UPDATE cases, INSERT case_events, RELEASE, and on SQLite the
    # INSERT of its audit entry (PostgreSQL inserts them all in one statement).
    assert per_case <= 5, counts
    # The rest: the actor, the organisation, the cases and their submissions, the
    # audit chain's lock and last hash (and on PostgreSQL the audit entries).
    assert counts[0] - 2 * per_case <= 8, counts

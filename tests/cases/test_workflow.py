"""The state machine, checked against the domain brief's table written out again
here by hand: every action from every state, for every role."""

from datetime import UTC, datetime, timedelta

import pytest

from casemgr.cases import workflow
from casemgr.cases.states import Action, Status
from casemgr.cases.workflow import CaseFacts
from casemgr.domain import SYSTEM_ACTOR, Actor, CaseRef, OrganisationRef, OrgKind, Role, StaffRef
from casemgr.errors import InvalidTransition, PermissionDenied, ValidationFailed
from casemgr.settings import Timings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RECEIVED = NOW - timedelta(days=2)
ANALYST = Actor(1, Role.ANALYST)
OTHER_ANALYST = Actor(2, Role.ANALYST)
SUPERVISOR = Actor(3, Role.SUPERVISOR)
ADMIN = Actor(4, Role.ADMIN)
TIMINGS = Timings(
    assessment_due=timedelta(hours=24),
    takedown_due=timedelta(hours=72),
    takedown_due_by_country={"KH": timedelta(hours=48)},
    forwarded_reminder=timedelta(days=7),
    police_hold_review=timedelta(days=30),
)


class Directory:
    """A resolver over a fixed little world."""

    staff_by_id = {
        1: StaffRef(1, True, Role.ANALYST),
        2: StaffRef(2, True, Role.ANALYST),
        3: StaffRef(3, True, Role.SUPERVISOR),
        9: StaffRef(9, False, Role.ANALYST),
    }
    organisations = {
        10: OrganisationRef(10, OrgKind.HOSTING_PROVIDER, "KH"),
        11: OrganisationRef(11, OrgKind.HOTLINE, "DE"),
        12: OrganisationRef(12, OrgKind.POLICE, "KH"),
        13: OrganisationRef(13, OrgKind.REGISTRAR, "KH"),
    }

    def staff(self, user_id):
        return self.staff_by_id.get(user_id)

    def organisation(self, organisation_id):
        return self.organisations.get(organisation_id)

    references = {"CM-2026-000100": 100, "CM-2026-000101": 101}

    def case(self, id_or_reference):
        if isinstance(id_or_reference, str):
            found = self.references.get(id_or_reference)
            return CaseRef(found) if found else None
        return CaseRef(id_or_reference) if id_or_reference in (100, 101) else None


# (state, police_hold): every situation a case can be in.
SITUATIONS = [(status, False) for status in Status] + [(Status.WITH_POLICE, True)]

# The brief's table: action -> situations it is allowed from.
ALLOWED_FROM = {
    "assign": {("new", False), ("triage", False)},
    "assess": {("triage", False)},
    "mark_duplicate": {("new", False), ("triage", False)},
    "close_unavailable": {("triage", False), ("action_required", False)},
    "request_notice": {("action_required", False), ("with_police", False)},
    "forward_to_partner": {("action_required", False)},
    "refer_to_police": {
        ("action_required", False),
        ("notice_pending", False),
        ("notice_sent", False),
        ("forwarded", False),
    },
    "release_hold": {("with_police", True)},
    "confirm_takedown": {
        ("notice_sent", False),
        ("forwarded", False),
        ("with_police", False),
        ("with_police", True),
    },
    "reopen": {("closed", False)},
    "send_notice": {("notice_pending", False)},
    # What comes back from outside: a provider's answer, the removal check.
    "report_removal": {
        ("notice_sent", False),
        ("forwarded", False),
        ("with_police", False),
        ("with_police", True),
    },
    "accept_reported_removal": {
        ("notice_sent", False),
        ("forwarded", False),
        ("with_police", False),
        ("with_police", True),
    },
    "decline_notice": {("notice_sent", False), ("forwarded", False)},
}
ROLE_NEEDED = {
    "release_hold": Role.SUPERVISOR,
    "reopen": Role.SUPERVISOR,
    "send_notice": Role.SYSTEM,
    "report_removal": Role.SYSTEM,
    "accept_reported_removal": Role.SYSTEM,
    "decline_notice": Role.SYSTEM,
}
VALID_FIELDS = {
    "assign": {},
    "assess": {
        "classification": "illegal_baseline",
        "media_type": "image",
        "site_type": "forum",
        "hosting_country": "KH",
    },
    "mark_duplicate": {"duplicate_of": 100},
    "close_unavailable": {},
    "request_notice": {"provider_id": 10},
    "forward_to_partner": {"partner_id": 11, "reason": "Hosted in DE, partner covers it"},
    "refer_to_police": {"police_id": 12, "hold": False},
    "release_hold": {"reason": "Police finished"},
    "confirm_takedown": {"removed_at": (NOW - timedelta(hours=1)).isoformat()},
    "reopen": {"reason": "Material came back"},
    "send_notice": {},
    "report_removal": {"removed_at": (NOW - timedelta(hours=2)).isoformat(), "source": "provider"},
    "accept_reported_removal": {"removed_at": (NOW - timedelta(hours=2)).isoformat()},
    "decline_notice": {"answer": "not_hosted"},
}
EXPECTED_TARGET = {
    "assign": ("triage", None),
    "assess": ("action_required", None),
    "mark_duplicate": ("closed", "duplicate"),
    "close_unavailable": ("closed", "content_unavailable"),
    "request_notice": ("notice_pending", None),
    "forward_to_partner": ("forwarded", None),
    "refer_to_police": ("with_police", None),
    "release_hold": ("with_police", None),
    "confirm_takedown": ("closed", "takedown_confirmed"),
    "reopen": ("triage", None),
    "send_notice": ("notice_sent", None),
    "report_removal": (None, None),  # stays where it is
    "accept_reported_removal": ("closed", "takedown_confirmed"),
    "decline_notice": ("action_required", None),
}


def plan(action, case, actor, fields):
    """``workflow.plan`` at NOW, with the test directory and timings."""
    return workflow.plan(
        action, case, actor, fields, now=NOW, resolver=Directory(), timings=TIMINGS
    )


def facts(status, hold=False, assignee_id=1):
    return CaseFacts(
        id=100 if status != Status.NEW else 101,
        status=Status(status),
        police_hold=hold,
        assignee_id=assignee_id,
        received_at=RECEIVED,
        hosting_country="KH",
    )


def actor_for(action):
    role = ROLE_NEEDED.get(action)
    if role is Role.SYSTEM:
        return SYSTEM_ACTOR
    return SUPERVISOR if role else ANALYST


def test_the_table_in_the_code_is_the_table_of_the_brief():
    assert set(ALLOWED_FROM) == {action.value for action in Action}


@pytest.mark.parametrize("action", sorted(ALLOWED_FROM))
@pytest.mark.parametrize(("status", "hold"), SITUATIONS)
def test_every_action_from_every_state(action, status, hold):
    case = facts(status, hold)
    fields = dict(VALID_FIELDS[action])
    if action == "mark_duplicate":
        fields["duplicate_of"] = 101 if case.id == 100 else 100
    if (status.value, hold) in ALLOWED_FROM[action]:
        transition = plan(action, case, actor_for(action), fields)
        to_status, resolution = EXPECTED_TARGET[action]
        assert (transition.to_status, transition.resolution) == (to_status or status, resolution)
        assert transition.from_status == status
    else:
        with pytest.raises(InvalidTransition) as refused:
            plan(action, case, actor_for(action), fields)
        assert refused.value.allowed_actions == workflow.allowed_actions(case, actor_for(action))
        assert "actions allowed now" in str(refused.value)


@pytest.mark.parametrize(("status", "hold"), SITUATIONS)
def test_allowed_actions_match_the_table(status, hold):
    case = facts(status, hold)
    for actor in (ANALYST, SUPERVISOR, ADMIN, SYSTEM_ACTOR):
        expected = {
            action
            for action, situations in ALLOWED_FROM.items()
            if (status.value, hold) in situations
            and actor.has(ROLE_NEEDED.get(action, Role.ANALYST))
        }
        assert set(workflow.allowed_actions(case, actor)) == expected, actor


@pytest.mark.parametrize("action", ["release_hold", "reopen"])
def test_supervisor_only_actions_refuse_analysts(action):
    status = "with_police" if action == "release_hold" else "closed"
    with pytest.raises(PermissionDenied, match="supervisor"):
        plan(action, facts(status, hold=action == "release_hold"), ANALYST, VALID_FIELDS[action])


@pytest.mark.parametrize("actor", [ANALYST, SUPERVISOR, ADMIN])
def test_people_cannot_take_the_notice_runs_action(actor):
    with pytest.raises(PermissionDenied):
        plan("send_notice", facts("notice_pending"), actor, {})


def test_the_system_takes_no_human_action():
    with pytest.raises(PermissionDenied):
        plan("assign", facts("new", assignee_id=None), SYSTEM_ACTOR, {"assignee_id": 1})


def test_unknown_action_is_an_invalid_transition_listing_what_is_allowed():
    with pytest.raises(InvalidTransition, match="'fly' is not an action") as refused:
        plan("fly", facts("triage"), ANALYST, {})
    assert "assess" in refused.value.allowed_actions


class TestAssign:
    def test_analyst_takes_a_new_case_for_themselves(self):
        transition = plan("assign", facts("new", assignee_id=None), ANALYST, {})
        assert transition.values["assignee_id"] == ANALYST.id

    def test_analyst_cannot_give_a_case_to_someone_else(self):
        with pytest.raises(ValidationFailed) as refused:
            plan("assign", facts("new", assignee_id=None), ANALYST, {"assignee_id": 2})
        assert "assignee_id" in refused.value.fields

    def test_analyst_cannot_take_a_colleagues_case(self):
        with pytest.raises(PermissionDenied):
            plan("assign", facts("triage", assignee_id=2), ANALYST, {})

    def test_supervisor_gives_a_case_to_anyone_active(self):
        transition = plan(
            "assign", facts("triage", assignee_id=1), SUPERVISOR, {"assignee_id": "2"}
        )
        assert transition.values["assignee_id"] == 2

    @pytest.mark.parametrize("assignee", [9, 999, "abc", -1, True, 1.5])
    def test_assignee_must_be_active_staff(self, assignee):
        with pytest.raises(ValidationFailed) as refused:
            plan("assign", facts("new", assignee_id=None), SUPERVISOR, {"assignee_id": assignee})
        assert list(refused.value.fields) == ["assignee_id"]


class TestAssess:
    def plan(self, fields, actor=ANALYST, assignee_id=1):
        return plan("assess", facts("triage", assignee_id=assignee_id), actor, fields)

    @pytest.mark.parametrize("classification", ["not_illegal", "out_of_remit"])
    def test_legal_or_out_of_remit_closes_with_that_resolution(self, classification):
        transition = self.plan({"classification": classification, "media_type": "image"})
        assert (transition.to_status, transition.resolution) == ("closed", classification)
        assert "media_type" not in transition.values

    def test_illegal_needs_media_site_and_country(self):
        with pytest.raises(ValidationFailed) as refused:
            self.plan({"classification": "illegal_national"})
        assert set(refused.value.fields) == {"media_type", "site_type", "hosting_country"}
        assert refused.value.fields["media_type"] == ["is required"]

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("classification", "bad"),
            ("media_type", "audio"),
            ("site_type", "darknet"),
            ("hosting_country", "XX"),
            ("hosting_country", "KHM"),
            ("hosting_country", 12),
            ("age_group", "adult"),
            ("hosting_ip", "999.1.1.1"),
            ("hosting_ip", "example.com"),
        ],
    )
    def test_bad_values_are_named(self, name, value):
        fields = dict(VALID_FIELDS["assess"], **{name: value})
        with pytest.raises(ValidationFailed) as refused:
            self.plan(fields)
        assert name in refused.value.fields

    def test_country_and_ip_are_normalised(self):
        transition = self.plan(
            dict(
                VALID_FIELDS["assess"],
                hosting_country=" kh ",
                hosting_ip="2001:DB8::1",
                age_group="pubescent",
            )
        )
        assert transition.values["hosting_country"] == "KH"
        assert transition.values["hosting_ip"] == "2001:db8::1"

    def test_only_the_assignee_or_a_supervisor_assesses(self):
        with pytest.raises(PermissionDenied):
            self.plan(VALID_FIELDS["assess"], actor=OTHER_ANALYST)
        assert self.plan(VALID_FIELDS["assess"], actor=SUPERVISOR).to_status == "action_required"


# Who among those with the role may take the actions that care who holds the
# case, by (action, state): allowed for the assignee, a colleague, a supervisor,
# an admin, and a colleague when nobody holds the case yet.
HOLDER_RULES = {
    ("assign", "triage"): (True, False, True, True, True),
    ("assess", "triage"): (True, False, True, True, False),
    ("mark_duplicate", "new"): (True, False, True, True, True),
    ("mark_duplicate", "triage"): (True, False, True, True, True),
    ("close_unavailable", "triage"): (True, False, True, True, True),
    ("close_unavailable", "action_required"): (True, False, True, True, True),
}
HOLDER_CALLERS = (
    (ANALYST, 1),
    (OTHER_ANALYST, 1),
    (SUPERVISOR, 1),
    (ADMIN, 1),
    (OTHER_ANALYST, None),
)
REFUSALS = {
    "assign": "only a supervisor can reassign it",
    "assess": "only the assignee or a supervisor can assess this case",
    "mark_duplicate": "only the assignee or a supervisor can close it",
    "close_unavailable": "only the assignee or a supervisor can close it",
}


def test_every_action_that_asks_who_holds_the_case_is_in_the_table():
    guarded = {rule.action.value for rule in workflow.RULES.values() if rule.actor_guard}
    assert guarded == {action for action, _ in HOLDER_RULES} == set(REFUSALS)


@pytest.mark.parametrize(("action", "status"), sorted(HOLDER_RULES))
def test_who_may_act_on_a_case_someone_holds(action, status):
    for (actor, assignee), allowed in zip(
        HOLDER_CALLERS, HOLDER_RULES[action, status], strict=True
    ):
        case = facts(status, assignee_id=assignee)
        fields = dict(VALID_FIELDS[action])
        if action == "mark_duplicate":
            fields["duplicate_of"] = 101 if case.id == 100 else 100
        if action == "assign" and actor.has(Role.SUPERVISOR):
            fields["assignee_id"] = 2  # supervisors give it to someone
        where = (action, status, actor, assignee)
        assert (action in workflow.allowed_actions(case, actor)) is allowed, where
        if allowed:
            assert plan(action, case, actor, fields).action == action, where
        else:
            with pytest.raises(PermissionDenied) as refused:
                plan(action, case, actor, fields)
            assert REFUSALS[action] in str(refused.value), where


class TestReferences:
    @pytest.mark.parametrize(
        ("action", "status", "field", "value"),
        [
            ("request_notice", "action_required", "provider_id", 11),  # a hotline
            ("request_notice", "action_required", "provider_id", 404),
            ("forward_to_partner", "action_required", "partner_id", 10),  # a provider
            ("refer_to_police", "forwarded", "police_id", 11),
            # Registrars are in the directory but receive no workflow action.
            ("request_notice", "action_required", "provider_id", 13),
            ("forward_to_partner", "action_required", "partner_id", 13),
            ("refer_to_police", "action_required", "police_id", 13),
            ("mark_duplicate", "triage", "duplicate_of", 100),  # itself
            ("mark_duplicate", "triage", "duplicate_of", 555),  # missing
            ("mark_duplicate", "triage", "duplicate_of", "x"),
        ],
    )
    def test_wrong_or_missing_references(self, action, status, field, value):
        with pytest.raises(ValidationFailed) as refused:
            plan(action, facts(status), ANALYST, {field: value})
        assert field in refused.value.fields

    def test_forwarding_to_another_country_needs_a_reason(self):
        with pytest.raises(ValidationFailed) as refused:
            plan("forward_to_partner", facts("action_required"), ANALYST, {"partner_id": 11})
        assert "reason" in refused.value.fields

    def test_request_notice_is_refused_under_a_police_hold(self):
        with pytest.raises(InvalidTransition):
            plan("request_notice", facts("with_police", hold=True), ANALYST, {"provider_id": 10})

    @pytest.mark.parametrize("hold", ["yes", "true", True, "on", "1"])
    def test_hold_accepts_the_usual_spellings_of_yes(self, hold):
        transition = plan(
            "refer_to_police", facts("action_required"), ANALYST, {"police_id": 12, "hold": hold}
        )
        assert transition.values["hold"] is True

    def test_hold_refuses_nonsense(self):
        with pytest.raises(ValidationFailed):
            plan(
                "refer_to_police",
                facts("action_required"),
                ANALYST,
                {"police_id": 12, "hold": "maybe"},
            )


class TestConfirmTakedown:
    @pytest.mark.parametrize(
        ("removed_at", "message"),
        [
            ((NOW + timedelta(minutes=1)).isoformat(), "future"),
            ((RECEIVED - timedelta(minutes=1)).isoformat(), "before the report"),
            ("yesterday", "ISO 8601"),
            ("", "required"),
            (None, "required"),
            (12, "ISO 8601"),
        ],
    )
    def test_bad_removal_times(self, removed_at, message):
        with pytest.raises(ValidationFailed) as refused:
            plan("confirm_takedown", facts("notice_sent"), ANALYST, {"removed_at": removed_at})
        assert message in " ".join(refused.value.fields["removed_at"])

    def test_naive_and_zulu_times_are_utc(self):
        for value in ("2026-11-28T10:00", "2026-11-28T10:00:00Z", "2026-11-28T17:00+07:00"):
            transition = plan(
                "confirm_takedown", facts("forwarded"), ANALYST, {"removed_at": value}
            )
            assert transition.values["removed_at"] == datetime(2026, 11, 28, 10, tzinfo=UTC)


@pytest.mark.parametrize("action", ["release_hold", "reopen"])
@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001, "bell\x07"])
def test_reasons_must_be_real_text(action, reason):
    status = "with_police" if action == "release_hold" else "closed"
    with pytest.raises(ValidationFailed) as refused:
        plan(action, facts(status, hold=True), SUPERVISOR, {"reason": reason})
    assert "reason" in refused.value.fields


def test_new_reports_start_new_and_repeats_close_as_duplicates():
    assert workflow.initial_state(has_open_duplicate=False) == ("new", None)
    assert workflow.initial_state(has_open_duplicate=True) == ("closed", "duplicate")


def test_no_action_is_addressed_to_a_registrar():
    targets = {spec.refers_to for rule in workflow.RULES.values() for spec in rule.fields}
    assert OrgKind.REGISTRAR not in targets


# --- what each action writes on the case: data, who, clocks and deadlines

HOUR = timedelta(hours=1)
CLOSING = {"closed_at": NOW, "due_at": None, "next_reminder_at": None}
KH_TAKEDOWN = NOW + 48 * HOUR  # TIMINGS: takedown due in 48 hours for KH, 72 elsewhere


def chase(due):
    return {"due_at": due, "next_reminder_at": due, "reminder_count": 0}


# (action, situation, fields, actor, the changes the transition asks for)
EFFECTS = [
    ("assign", ("new", False), {}, ANALYST, {"assignee_id": 1, "assigned_at": NOW}),
    (
        "assess",
        ("triage", False),
        VALID_FIELDS["assess"],
        ANALYST,
        {
            "classification": "illegal_baseline",
            "media_type": "image",
            "site_type": "forum",
            "hosting_country": "KH",
            "age_group": None,
            "hosting_ip": None,
            "assessed_at": NOW,
            "assessed_by_id": ANALYST.id,
            "due_at": None,
        },
    ),
    (
        "assess",
        ("triage", False),
        {"classification": "out_of_remit", "media_type": "image", "hosting_ip": "192.0.2.7"},
        SUPERVISOR,
        {
            "classification": "out_of_remit",
            "media_type": None,
            "site_type": None,
            "hosting_country": None,
            "age_group": None,
            "hosting_ip": None,
            "assessed_at": NOW,
            "assessed_by_id": SUPERVISOR.id,
            "resolution": "out_of_remit",
            **CLOSING,
        },
    ),
    (
        "mark_duplicate",
        ("triage", False),
        {"duplicate_of": 101},
        ANALYST,
        {"duplicate_of_id": 101, "resolution": "duplicate", **CLOSING},
    ),
    (
        "mark_duplicate",
        ("triage", False),
        {"duplicate_of": " cm-2026-000101 "},
        ANALYST,
        {"duplicate_of_id": 101, "resolution": "duplicate", **CLOSING},
    ),
    (
        "close_unavailable",
        ("action_required", False),
        {},
        ANALYST,
        {"resolution": "content_unavailable", **CLOSING},
    ),
    (
        "request_notice",
        ("action_required", False),
        {"provider_id": 10},
        ANALYST,
        {
            "provider_id": 10,
            "notice_requested_at": NOW,
            "due_at": None,
            "next_reminder_at": None,
            "first_action_at": NOW,
        },
    ),
    (
        "forward_to_partner",
        ("action_required", False),
        VALID_FIELDS["forward_to_partner"],
        ANALYST,
        {
            "partner_id": 11,
            "forwarded_at": NOW,
            **chase(NOW + timedelta(days=7)),
            "first_action_at": NOW,
        },
    ),
    (
        "refer_to_police",
        ("notice_sent", False),
        {"police_id": 12},
        ANALYST,
        {
            "police_id": 12,
            "referred_at": NOW,
            "police_hold": False,
            **chase(KH_TAKEDOWN),
            "first_action_at": NOW,
        },
    ),
    (
        "refer_to_police",
        ("action_required", False),
        {"police_id": 12, "hold": "yes"},
        ANALYST,
        {
            "police_id": 12,
            "referred_at": NOW,
            "police_hold": True,
            "hold_since": NOW,
            "due_at": None,
            "next_reminder_at": NOW + timedelta(days=30),
            "reminder_count": 0,
            "first_action_at": NOW,
        },
    ),
    (
        "release_hold",
        ("with_police", True),
        {"reason": "Police finished"},
        SUPERVISOR,
        {"police_hold": False, "hold_since": None, **chase(KH_TAKEDOWN)},
    ),
    (
        "confirm_takedown",
        ("with_police", True),
        {"removed_at": (NOW - HOUR).isoformat()},
        ANALYST,
        {"removed_at": NOW - HOUR, "resolution": "takedown_confirmed", **CLOSING},
    ),
    (
        "reopen",
        ("closed", False),
        {"reason": "Material came back"},
        SUPERVISOR,
        {"resolution": None, "closed_at": None, "removed_at": None, "due_at": NOW + 24 * HOUR},
    ),
    (
        "send_notice",
        ("notice_pending", False),
        {},
        SYSTEM_ACTOR,
        {"notice_sent_at": NOW, **chase(KH_TAKEDOWN)},
    ),
    (
        "report_removal",
        ("notice_sent", False),
        {"removed_at": (NOW - HOUR).isoformat(), "source": "provider"},
        SYSTEM_ACTOR,
        {
            "removal_reported_at": NOW - HOUR,
            "removal_reported_by": "provider",
            "next_reminder_at": None,
            "due_at": NOW + 24 * HOUR,
        },
    ),
    (
        "accept_reported_removal",
        ("notice_sent", False),
        {"removed_at": (NOW - HOUR).isoformat()},
        SYSTEM_ACTOR,
        {
            "removed_at": NOW - HOUR,
            "removal_reported_at": NOW - HOUR,
            "removal_reported_by": "provider",
            "resolution": "takedown_confirmed",
            **CLOSING,
        },
    ),
    (
        "decline_notice",
        ("notice_sent", False),
        {"answer": "not_hosted"},
        SYSTEM_ACTOR,
        {"attention": "not_hosted", "due_at": None, "next_reminder_at": None, "reminder_count": 0},
    ),
]


def test_the_effects_table_covers_every_action():
    assert {action for action, *_ in EFFECTS} == {action.value for action in Action}


@pytest.mark.parametrize(
    ("action", "situation", "fields", "actor", "changes"),
    EFFECTS,
    ids=[f"{row[0]}-{index}" for index, row in enumerate(EFFECTS)],
)
def test_what_each_action_writes(action, situation, fields, actor, changes):
    status, hold = situation
    transition = plan(action, facts(status, hold), actor, fields)
    assert transition.changes == changes


@pytest.mark.parametrize("action", ["request_notice", "forward_to_partner", "refer_to_police"])
def test_only_the_first_hand_over_is_the_first_action(action):
    status = "action_required"
    earlier = NOW - timedelta(days=1)
    case = CaseFacts(
        id=100,
        status=Status(status),
        assignee_id=1,
        received_at=RECEIVED,
        hosting_country="KH",
        first_action_at=earlier,
    )
    transition = plan(action, case, ANALYST, VALID_FIELDS[action])
    assert "first_action_at" not in transition.changes


def test_the_takedown_clock_follows_the_hosting_country():
    for country, due in (("KH", KH_TAKEDOWN), ("DE", NOW + 72 * HOUR), (None, NOW + 72 * HOUR)):
        case = CaseFacts(id=100, status=Status.NOTICE_PENDING, hosting_country=country)
        transition = plan("send_notice", case, SYSTEM_ACTOR, {})
        assert transition.changes["due_at"] == transition.changes["next_reminder_at"] == due


class TestDuplicateOf:
    """The other case is named by its id or by its reference, however the action comes."""

    @pytest.mark.parametrize("named", [101, "101", "CM-2026-000101", "cm-2026-000101 "])
    def test_an_id_or_a_reference_records_the_id(self, named):
        transition = plan("mark_duplicate", facts("triage"), ANALYST, {"duplicate_of": named})
        assert transition.values == {"duplicate_of": 101}

    @pytest.mark.parametrize(
        ("named", "message"),
        [
            ("CM-2026-000100", "itself"),  # the case's own reference
            ("CM-2026-999999", "no case with this id or reference"),
            ("x" * 65, "case id or a case reference"),
            ("CM-\x00", "case id or a case reference"),
            (True, "case id or a case reference"),
            (0, "case id or a case reference"),
        ],
    )
    def test_what_names_no_other_case_is_refused(self, named, message):
        with pytest.raises(ValidationFailed) as refused:
            plan("mark_duplicate", facts("triage"), ANALYST, {"duplicate_of": named})
        assert message in " ".join(refused.value.fields["duplicate_of"])


def test_a_reported_removal_stops_reminders_and_asks_for_verification_by_a_deadline():
    reported = NOW - timedelta(hours=3)
    transition = plan(
        "report_removal",
        facts("notice_sent"),
        SYSTEM_ACTOR,
        {"removed_at": reported.isoformat(), "source": "check"},
    )
    assert transition.to_status is Status.NOTICE_SENT
    assert transition.changes["removal_reported_at"] == reported
    assert transition.changes["removal_reported_by"] == "check"
    assert transition.changes["next_reminder_at"] is None
    assert transition.changes["due_at"] == NOW + TIMINGS.removal_verify


def test_a_reported_removal_in_the_future_or_before_the_report_is_refused():
    for moment in (NOW + timedelta(minutes=5), RECEIVED - timedelta(minutes=5)):
        with pytest.raises(ValidationFailed) as refused:
            plan(
                "report_removal",
                facts("notice_sent"),
                SYSTEM_ACTOR,
                {"removed_at": moment.isoformat(), "source": "provider"},
            )
        assert "removed_at" in refused.value.fields


def test_a_declined_notice_sends_the_case_back_to_be_routed_and_the_next_action_clears_it():
    declined = plan(
        "decline_notice", facts("notice_sent"), SYSTEM_ACTOR, {"answer": "cannot_remove"}
    )
    assert declined.to_status is Status.ACTION_REQUIRED
    assert declined.changes["attention"] == "cannot_remove"
    assert declined.changes["next_reminder_at"] is None
    flagged = CaseFacts(
        id=100,
        status=Status.ACTION_REQUIRED,
        assignee_id=1,
        received_at=RECEIVED,
        attention="cannot_remove",
        removal_reported=True,
    )
    routed = plan("request_notice", flagged, ANALYST, {"provider_id": 10})
    assert routed.changes["attention"] is None
    assert routed.changes["removal_reported_at"] is None


def test_staff_cannot_take_the_actions_of_what_comes_back_from_outside():
    for action in ("report_removal", "accept_reported_removal", "decline_notice"):
        with pytest.raises(PermissionDenied):
            plan(action, facts("notice_sent"), SUPERVISOR, VALID_FIELDS[action])

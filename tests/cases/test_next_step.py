"""Which action the case page opens first: an order over the allowed actions,
never a second copy of the workflow's rules."""

from __future__ import annotations

import itertools

import pytest

from casemgr.cases.next_step import LIKELY_ORDER, next_steps
from casemgr.cases.states import Action, Status
from casemgr.cases.workflow import STAFF_ACTIONS, CaseFacts, allowed_actions
from casemgr.domain import Actor, Role


@pytest.mark.parametrize(
    ("allowed", "suggested", "order", "opened"),
    [
        # new: take it
        (["assign", "mark_duplicate"], None, ["assign", "mark_duplicate"], "assign"),
        # triage, the case is mine: assess before re-assigning it
        (
            ["assign", "assess", "mark_duplicate", "close_unavailable"],
            None,
            ["assess", "assign", "mark_duplicate", "close_unavailable"],
            "assess",
        ),
        # triage, a colleague's case: only side exits, none opened
        (
            ["mark_duplicate", "close_unavailable"],
            None,
            ["mark_duplicate", "close_unavailable"],
            None,
        ),
        # assessed illegal: the routing suggestion first and open
        (
            ["close_unavailable", "request_notice", "forward_to_partner", "refer_to_police"],
            "refer_to_police",
            ["refer_to_police", "request_notice", "forward_to_partner", "close_unavailable"],
            "refer_to_police",
        ),
        (
            ["close_unavailable", "request_notice", "forward_to_partner", "refer_to_police"],
            "forward_to_partner",
            ["forward_to_partner", "request_notice", "refer_to_police", "close_unavailable"],
            "forward_to_partner",
        ),
        # assessed, no suggestion: the notice
        (
            ["close_unavailable", "request_notice", "forward_to_partner", "refer_to_police"],
            None,
            ["request_notice", "forward_to_partner", "refer_to_police", "close_unavailable"],
            "request_notice",
        ),
        # notice pending: waiting for the notice run; the police are an escalation
        (["refer_to_police"], None, ["refer_to_police"], None),
        # notice sent: the takedown, then police
        (
            ["refer_to_police", "confirm_takedown"],
            None,
            ["confirm_takedown", "refer_to_police"],
            "confirm_takedown",
        ),
        # with police, own country: routing says the notice comes next
        (
            ["request_notice", "confirm_takedown"],
            "request_notice",
            ["request_notice", "confirm_takedown"],
            "request_notice",
        ),
        # with police on hold (a supervisor): confirming first, releasing is a decision
        (
            ["release_hold", "confirm_takedown"],
            None,
            ["confirm_takedown", "release_hold"],
            "confirm_takedown",
        ),
        # closed (a supervisor): nothing opened unasked
        (["reopen"], None, ["reopen"], None),
        ([], None, [], None),
    ],
)
def test_order_and_the_opened_action(allowed, suggested, order, opened):
    steps = next_steps(allowed, suggested=suggested)
    assert list(steps.actions) == order
    assert steps.opened == opened


def test_the_failed_action_is_opened_where_it_stands():
    allowed = ["assign", "assess", "mark_duplicate", "close_unavailable"]
    steps = next_steps(allowed, failed="mark_duplicate")
    assert steps.opened == "mark_duplicate"
    assert list(steps.actions) == ["assess", "assign", "mark_duplicate", "close_unavailable"]


def test_a_failed_or_suggested_action_that_is_not_allowed_counts_for_nothing():
    steps = next_steps(["assign", "mark_duplicate"], suggested="assess", failed="reopen")
    assert (list(steps.actions), steps.opened) == (["assign", "mark_duplicate"], "assign")


def test_unknown_actions_keep_their_order_after_the_known_ones():
    steps = next_steps(["later", "assess", "sooner"])
    assert list(steps.actions) == ["assess", "later", "sooner"]


def test_every_staff_action_has_a_rank():
    assert set(LIKELY_ORDER) == set(STAFF_ACTIONS)


ACTORS = [Actor(1, Role.ANALYST), Actor(2, Role.SUPERVISOR), Actor(3, Role.ADMIN)]
CASES = [
    CaseFacts(id=1, status=status, police_hold=hold, assignee_id=assignee)
    for status, hold, assignee in itertools.product(Status, (False, True), (None, 1, 2))
    if not hold or status is Status.WITH_POLICE
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.status}-{c.police_hold}-{c.assignee_id}")
def test_over_the_whole_workflow_it_only_reorders_what_is_allowed(case):
    for actor in ACTORS:
        allowed = allowed_actions(case, actor)
        for suggested in [None, *allowed]:
            steps = next_steps(allowed, suggested=suggested)
            assert sorted(steps.actions) == sorted(allowed)
            assert steps.opened is None or steps.opened == steps.actions[0]
            if suggested:
                assert steps.actions[0] == suggested and steps.opened == suggested


def test_after_each_step_of_the_usual_way_the_next_one_is_opened():
    """Take, assess, notice, confirm: each state opens the action that moves it on."""
    me = Actor(1, Role.ANALYST)
    path = [
        (CaseFacts(1, Status.NEW), Action.ASSIGN),
        (CaseFacts(1, Status.TRIAGE, assignee_id=1), Action.ASSESS),
        (CaseFacts(1, Status.ACTION_REQUIRED, assignee_id=1), Action.REQUEST_NOTICE),
        (CaseFacts(1, Status.NOTICE_SENT, assignee_id=1), Action.CONFIRM_TAKEDOWN),
        (CaseFacts(1, Status.FORWARDED, assignee_id=1), Action.CONFIRM_TAKEDOWN),
    ]
    for case, expected in path:
        assert next_steps(allowed_actions(case, me)).opened == expected, case.status

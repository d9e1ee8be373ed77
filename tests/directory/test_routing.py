"""The routing rule on its own: plain data in, a suggestion (or none) out."""

from __future__ import annotations

import pytest

from casemgr.cases import workflow
from casemgr.cases.states import Status
from casemgr.cases.workflow import CaseFacts
from casemgr.directory.routing import Candidate, CaseSituation, Policy, suggest
from casemgr.domain import Actor, Role

NATIONAL_POLICE = Candidate(1, "police", "KH", "National Police")
CHANNEL = Candidate(2, "police", None, "International Channel")
OTHER_POLICE = Candidate(3, "police", None, "Another Channel")
PARTNER_DE = Candidate(4, "hotline", "DE", "Partner DE")
PARTNER_DE_2 = Candidate(5, "hotline", "DE", "Zweite Partner DE")
PROVIDER_KH = Candidate(6, "hosting_provider", "KH", "Host KH")
DIRECTORY = [PARTNER_DE_2, PARTNER_DE, OTHER_POLICE, CHANNEL, NATIONAL_POLICE, PROVIDER_KH]
POLICY = Policy(hotline_country="KH")
ANALYST = Actor(1, Role.ANALYST)


def situation(status="action_required", country="KH", provider_id=None, hold=False):
    facts = CaseFacts(
        id=1, status=Status(status), police_hold=hold, assignee_id=1, hosting_country=country
    )
    return CaseSituation(
        status=status,
        hosting_country=country,
        allowed_actions=workflow.allowed_actions(facts, ANALYST),
        provider_id=provider_id,
    )


class TestOwnCountry:
    def test_police_first_by_default(self):
        suggestion = suggest(situation(), DIRECTORY, POLICY)
        assert (suggestion.action, suggestion.organisation_id) == ("refer_to_police", 1)
        assert suggestion.field == "police_id"
        assert "police first" in suggestion.reason

    def test_then_the_notice_to_the_host(self):
        suggestion = suggest(situation("with_police", provider_id=6), DIRECTORY, POLICY)
        assert (suggestion.action, suggestion.organisation_id) == ("request_notice", 6)
        assert suggestion.field == "provider_id"

    def test_no_notice_while_police_hold_the_takedown(self):
        assert suggest(situation("with_police", hold=True), DIRECTORY, POLICY) is None

    def test_notice_first_where_practice_says_so(self):
        policy = Policy(hotline_country="KH", police_first_in_own_country=False)
        suggestion = suggest(situation(provider_id=6), DIRECTORY, policy)
        assert (suggestion.action, suggestion.organisation_id) == ("request_notice", 6)

    def test_notice_without_a_known_provider_asks_to_trace(self):
        policy = Policy(hotline_country="KH", police_first_in_own_country=False)
        suggestion = suggest(situation(), DIRECTORY, policy)
        assert (suggestion.action, suggestion.organisation_id) == ("request_notice", None)
        assert "Trace the host" in suggestion.reason

    def test_a_provider_id_that_is_not_a_provider_is_not_used(self):
        policy = Policy(hotline_country="KH", police_first_in_own_country=False)
        suggestion = suggest(situation(provider_id=4), DIRECTORY, policy)
        assert suggestion.organisation_id is None

    def test_no_national_police_in_the_directory(self):
        suggestion = suggest(situation(), [PARTNER_DE], POLICY)
        assert (suggestion.action, suggestion.organisation_id) == ("refer_to_police", None)
        assert "no police unit in KH" in suggestion.reason

    def test_the_hotline_country_setting_decides_what_is_own(self):
        suggestion = suggest(situation(country="DE"), DIRECTORY, Policy(hotline_country="de"))
        assert suggestion.action == "refer_to_police"
        assert suggestion.organisation_id is None  # no police unit in DE


class TestAbroadWithPartner:
    def test_forward_to_the_partner_of_the_hosting_country(self):
        suggestion = suggest(situation(country="DE"), DIRECTORY, POLICY)
        assert (suggestion.action, suggestion.organisation_id) == ("forward_to_partner", 4)
        assert suggestion.field == "partner_id"
        assert "Partner DE" in suggestion.reason
        assert "1 other partner hotline" in suggestion.reason

    def test_nothing_more_once_forwarded(self):
        assert suggest(situation("forwarded", country="DE"), DIRECTORY, POLICY) is None


class TestAbroadWithoutPartner:
    def test_the_police_organisation_without_a_country(self):
        suggestion = suggest(situation(country="US"), DIRECTORY, POLICY)
        assert (suggestion.action, suggestion.organisation_id) == ("refer_to_police", 3)
        # Two channels without a country: the first by name; the setting picks one.
        policy = Policy(hotline_country="KH", international_police_id=2)
        assert suggest(situation(country="US"), DIRECTORY, policy).organisation_id == 2

    def test_a_setting_naming_no_police_organisation_is_ignored(self):
        policy = Policy(hotline_country="KH", international_police_id=4)  # a hotline
        assert suggest(situation(country="US"), DIRECTORY, policy).organisation_id == 3

    def test_national_police_when_there_is_no_international_channel(self):
        suggestion = suggest(situation(country="US"), [NATIONAL_POLICE, PARTNER_DE], POLICY)
        assert (suggestion.action, suggestion.organisation_id) == ("refer_to_police", 1)

    def test_no_police_at_all(self):
        suggestion = suggest(situation(country="US"), [PARTNER_DE], POLICY)
        assert (suggestion.action, suggestion.organisation_id) == ("refer_to_police", None)


@pytest.mark.parametrize(
    "status", ["new", "triage", "notice_pending", "notice_sent", "forwarded", "closed"]
)
@pytest.mark.parametrize("country", ["KH", "DE", "US"])
def test_nothing_is_suggested_outside_the_routing_states(status, country):
    assert suggest(situation(status, country), DIRECTORY, POLICY) is None


def test_nothing_before_the_hosting_country_is_known():
    assert suggest(situation(country=None), DIRECTORY, POLICY) is None


@pytest.mark.parametrize("country", ["KH", "DE", "US"])
def test_only_actions_the_user_may_take_now(country):
    allowed_without_routing = CaseSituation(
        "action_required", country, allowed_actions=["close_unavailable"]
    )
    assert suggest(allowed_without_routing, DIRECTORY, POLICY) is None


@pytest.mark.parametrize("status", [s.value for s in Status])
@pytest.mark.parametrize("country", ["KH", "DE", "US", None])
@pytest.mark.parametrize("police_first", [True, False])
def test_a_suggestion_is_always_an_allowed_action(status, country, police_first):
    case = situation(status, country, provider_id=6)
    policy = Policy(hotline_country="KH", police_first_in_own_country=police_first)
    suggestion = suggest(case, DIRECTORY, policy)
    assert suggestion is None or suggestion.action in case.allowed_actions

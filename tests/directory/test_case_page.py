"""The routing suggestion on the case page: first among the allowed actions,
open, with its organisation chosen."""

from __future__ import annotations

import re

import pytest

from casemgr import context
from casemgr.cases import services as cases
from casemgr.extensions import db
from tests.conftest import login
from tests.factories import ILLEGAL


@pytest.fixture
def directory(app, make):
    return {
        "police_kh": make.organisation("police", name="National Police", country="KH"),
        "channel": make.organisation("police", name="International Channel", country=None),
        "channel_2": make.organisation("police", name="Another Channel", country=None),
        "partner_de": make.organisation("hotline", name="Partner DE", country="DE"),
        "provider": make.organisation(name="Example Hosting", domains="example.com"),
    }


def assessed(make, analyst, country):
    case = make.case("triage", by=analyst)
    cases.apply_action(
        db.session,
        case,
        "assess",
        dict(ILLEGAL, hosting_country=country),
        actor=analyst.actor,
        now=context.now(),
        timings=context.timings(),
    )
    db.session.commit()
    return case


def actions_on(page: str) -> list[str]:
    return re.findall(r'action="/cases/\d+/actions/(\w+)"', page)


def selected(page: str, field: str) -> str | None:
    start = page.index(f'name="{field}"')
    html = page[start : page.index("</select>", start)]
    found = re.search(r'<option selected value="(\d*)">', html)
    return found.group(1) if found else None


def first_form_is_open(page: str) -> bool:
    actions = page[page.index("<h2>Actions</h2>") :]
    return re.search(r'<details class="action" id="action-\w+" open>', actions) is not None


def case_page(client, case, query=""):
    response = client.get(f"/cases/{case.id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_own_country_police_first(client, make, analyst, directory):
    case = assessed(make, analyst, "KH")
    page = case_page(login(client, analyst), case)
    assert actions_on(page)[0] == "refer_to_police"
    assert first_form_is_open(page)
    assert "Suggested: Refer to police — National Police (KH)." in page
    assert selected(page, "refer_to_police-police_id") == str(directory["police_kh"].id)
    # The other allowed actions are all still there, the likely next ones first.
    assert actions_on(page)[1:] == ["request_notice", "forward_to_partner", "close_unavailable"]


class TestNoticeFirst:
    @pytest.fixture
    def app_config(self):
        return {"POLICE_FIRST_IN_OWN_COUNTRY": False}

    def test_own_country_notice_with_the_traced_provider(self, client, make, analyst, directory):
        case = assessed(make, analyst, "KH")
        provider = directory["provider"].id
        page = case_page(login(client, analyst), case, f"?provider_id={provider}")
        assert actions_on(page)[0] == "request_notice"
        assert "Suggested: Request takedown notice — Example Hosting (KH)." in page
        assert selected(page, "request_notice-provider_id") == str(provider)

    def test_without_a_provider_it_asks_for_a_trace(self, client, make, analyst, directory):
        # A host no provider's domain in the directory covers.
        case = make.case("triage", by=analyst, url="http://unknown.example.net/x")
        cases.apply_action(
            db.session,
            case,
            "assess",
            ILLEGAL,
            actor=analyst.actor,
            now=context.now(),
            timings=context.timings(),
        )
        db.session.commit()
        page = case_page(login(client, analyst), case)
        assert actions_on(page)[0] == "request_notice"
        assert "Trace the host" in page
        assert selected(page, "request_notice-provider_id") is None


def test_own_country_after_police_the_notice(client, make, analyst, directory):
    case = assessed(make, analyst, "KH")
    cases.apply_action(
        db.session,
        case,
        "refer_to_police",
        {"police_id": directory["police_kh"].id, "hold": False},
        actor=analyst.actor,
        now=context.now(),
        timings=context.timings(),
    )
    db.session.commit()
    page = case_page(login(client, analyst), case)
    assert actions_on(page)[0] == "request_notice"
    assert "Suggested: Request takedown notice" in page


def test_abroad_with_a_partner_hotline(client, make, analyst, directory):
    page = case_page(login(client, analyst), assessed(make, analyst, "DE"))
    assert actions_on(page)[0] == "forward_to_partner"
    assert "Suggested: Forward to partner hotline — Partner DE (DE)." in page
    assert selected(page, "forward_to_partner-partner_id") == str(directory["partner_de"].id)


def test_abroad_without_a_partner_hotline(client, make, analyst, directory):
    page = case_page(login(client, analyst), assessed(make, analyst, "US"))
    assert actions_on(page)[0] == "refer_to_police"
    assert "has no partner hotline" in page
    # Two channels without a country: the first by name.
    assert selected(page, "refer_to_police-police_id") == str(directory["channel_2"].id)


class TestInternationalChannelSetting:
    @pytest.fixture
    def app_config(self):
        return {"INTERNATIONAL_POLICE_ID": 2}  # "International Channel", made second

    def test_the_setting_chooses_the_channel(self, client, make, analyst, directory):
        assert directory["channel"].id == 2
        page = case_page(login(client, analyst), assessed(make, analyst, "US"))
        assert selected(page, "refer_to_police-police_id") == "2"


class TestHotlineCountry:
    @pytest.fixture
    def app_config(self):
        return {"HOTLINE_COUNTRY": "DE"}

    def test_own_country_comes_from_the_setting(self, client, make, analyst, directory):
        page = case_page(login(client, analyst), assessed(make, analyst, "DE"))
        assert actions_on(page)[0] == "refer_to_police"
        assert "Hosted in DE: national practice" in page


def test_no_suggestion_before_assessment(client, make, analyst, directory):
    page = case_page(login(client, analyst), make.case("triage", by=analyst))
    assert "Suggested:" not in page
    assert actions_on(page)[0] == "assess"  # next step first (casemgr/cases/next_step.py)


def test_a_query_parameter_overrides_the_suggested_organisation(client, make, analyst, directory):
    case = assessed(make, analyst, "KH")
    page = case_page(login(client, analyst), case, f"?police_id={directory['channel'].id}")
    assert selected(page, "refer_to_police-police_id") == str(directory["channel"].id)


def test_deactivated_organisations_are_not_suggested(client, make, analyst, directory):
    from casemgr.directory import operations
    from casemgr.domain import SYSTEM_ACTOR

    operations.set_active(
        db.session, directory["partner_de"], False, now=context.now(), actor=SYSTEM_ACTOR
    )
    db.session.commit()
    page = case_page(login(client, analyst), assessed(make, analyst, "DE"))
    assert actions_on(page)[0] == "refer_to_police"
    assert "Partner DE" not in page

"""The bulk result page offers the next action on the same selection
(casemgr.cases.bulk_next): the case page's choice, the fields filled in from
what the cases that went through agree on."""

from __future__ import annotations

import re

from casemgr.cases.bulk_next import next_for
from casemgr.cases.models import Case
from casemgr.extensions import db
from tests.conftest import login
from tests.factories import ILLEGAL


def chosen(html: str, select_name: str) -> str | None:
    """The value of the selected option of ``select_name`` on the page."""
    select = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, select_name
    option = re.search(r'<option(?=[^>]*\bselected\b)[^>]*value="([^"]*)"', select.group(1))
    return option.group(1) if option else None


def bulk(client, action, ids, **fields) -> str:
    response = client.post("/cases/bulk", data={"action": action, "case_ids": ids, **fields})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.location).get_data(as_text=True)


def on_host(make, count, host="big.example.com"):
    cases = make.report(*(f"https://{host}/{n}" for n in range(count))).submission.cases
    return [case.id for case in cases]


def test_after_take_assess_with_the_directorys_country(client, make, analyst):
    make.organisation(name="Big Host", country="TH", domains="example.com")
    ids = on_host(make, 3)
    login(client, analyst)
    html = bulk(client, "take", ids)
    assert chosen(html, "action") == "assess"
    assert chosen(html, "assess-hosting_country") == "TH"
    assert chosen(html, "assess-classification") in (None, "")  # a judgement, never guessed
    assert re.search(r'<details class="bulk-fields" open', html)


def test_after_assess_the_notice_to_the_provider_when_routing_suggests_it(
    app, client, make, analyst
):
    app.config["POLICE_FIRST_IN_OWN_COUNTRY"] = False
    provider = make.organisation(name="Big Host", country="KH", domains="example.com")
    ids = on_host(make, 3)
    login(client, analyst)
    bulk(client, "take", ids)
    html = bulk(client, "assess", ids, **{f"assess-{k}": v for k, v in ILLEGAL.items()})
    assert chosen(html, "action") == "request_notice"
    assert chosen(html, "request_notice-provider_id") == str(provider.id)


def test_police_first_suggests_police_and_still_fills_in_the_provider(app, client, make, analyst):
    app.config["POLICE_FIRST_IN_OWN_COUNTRY"] = True
    provider = make.organisation(name="Big Host", country="KH", domains="example.com")
    police = make.organisation("police", name="National Police", country="KH")
    ids = on_host(make, 2)
    login(client, analyst)
    bulk(client, "take", ids)
    html = bulk(client, "assess", ids, **{f"assess-{k}": v for k, v in ILLEGAL.items()})
    assert chosen(html, "action") == "refer_to_police"
    assert chosen(html, "refer_to_police-police_id") == str(police.id)
    assert chosen(html, "request_notice-provider_id") == str(provider.id)


def test_cases_on_different_hosts_get_the_action_but_no_values(client, make, analyst):
    make.organisation(name="Big Host", country="TH", domains="example.com")
    ids = on_host(make, 2) + on_host(make, 1, host="elsewhere.example.net")
    login(client, analyst)
    html = bulk(client, "take", ids)
    assert chosen(html, "action") == "assess"
    assert chosen(html, "assess-hosting_country") in (None, "")


def test_nothing_went_through_nothing_is_chosen(client, make, analyst):
    closed = make.case("closed")
    login(client, analyst)
    html = bulk(client, "take", [closed.id])
    assert "1 case refused" in html
    assert chosen(html, "action") in (None, "")


def test_only_the_actions_every_case_allows(app, make, analyst):
    new, triage = make.case("new"), make.case("triage", by=analyst)
    with app.test_request_context():
        cases = [db.session.get(Case, new.id), db.session.get(Case, triage.id)]
        assert next_for(db.session, cases, analyst.actor).action is None  # assess: not on new
        assert next_for(db.session, cases[1:], analyst.actor).action == "assess"
        assert next_for(db.session, [], analyst.actor).action is None

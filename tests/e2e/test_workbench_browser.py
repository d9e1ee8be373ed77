"""Issue 12's "done when", in a real browser: one analyst takes a 50-URL public
report on one host from new to notice_pending for one provider, and every
interaction and page load is counted, from the sign-in page onward (signing
in counts: its page load and its button).

What counts: every click, check and select_option is one interaction (typing
the e-mail address and the password is not, and the test says so by using
``fill``); a page load is a document the main frame navigates to (a POST
answered with a redirect and the GET it leads to are one load, as the
analyst sees them). Same set-up as test_public_browser.py.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from casemgr.cases.models import Case, CaseEvent
from casemgr.extensions import db
from tests.e2e.test_public_browser import browser, live_server, shot, shots  # noqa: F401
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

HOST = "big.example.com"
MAX_INTERACTIONS = 12
MAX_LOADS = 8


# A hotline that sends the notice to a host in its own country straight away
# (routing then suggests the notice), and one whose practice is police first
# (routing suggests referring to police: the analyst chooses the notice instead,
# one select more).
@pytest.fixture(params=[False, True], ids=["notice-first", "police-first"])
def app_config(request):
    return {"WTF_CSRF_ENABLED": True, "POLICE_FIRST_IN_OWN_COUNTRY": request.param}


class Counted:
    """The page, with the analyst's interactions counted."""

    def __init__(self, page):
        self.page = page
        self.interactions: list[str] = []

    def click(self, selector: str) -> None:
        self.interactions.append(f"click {selector}")
        self.page.click(selector)

    def check(self, selector: str) -> None:
        self.interactions.append(f"check {selector}")
        self.page.check(selector)

    def select(self, selector: str, value: str) -> None:
        self.interactions.append(f"select {selector}={value}")
        self.page.select_option(selector, value)


def test_fifty_urls_on_one_host_from_new_to_notice_pending(
    browser,  # noqa: F811
    live_server,  # noqa: F811
    make,
    backend,
    shots,  # noqa: F811
    app_config,
):
    police_first = app_config["POLICE_FIRST_IN_OWN_COUNTRY"]
    provider = make.organisation(name="Big Host Ltd", country="KH", domains="example.com")
    make.organisation("police", name="National Police", country="KH")
    make.report("https://other.example.org/not-this-one")
    urls = [f"https://{HOST}/album/{n}/photo.html" for n in range(50)]
    ids = [case.id for case in make.report(*urls, source="public").submission.cases]
    assert len(ids) == 50
    analyst = make.user("analyst")

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    loads: list[str] = []
    page.on("framenavigated", lambda f: loads.append(f.url) if f == page.main_frame else None)
    documents: list[str] = []  # the same, counted as the browser's document requests
    page.on(
        "request",
        lambda r: (
            documents.append(f"{r.method} {r.url}")
            if r.resource_type == "document" and r.redirected_from is None
            else None
        ),
    )
    analyst_page = Counted(page)

    # Sign in (the load of the sign-in page and its button count).
    page.goto(live_server + "/login")
    page.fill("input[name=email]", analyst.email)
    page.fill("input[name=password]", PASSWORD)
    analyst_page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/"))

    # The queue, one row per host: the 50 URLs are one group.
    with page.expect_navigation():
        analyst_page.select("select[name=group]", "host")
    group = page.locator(f"table.groups tbody tr:has(input[value='{HOST}'])")
    assert "50" in group.inner_text()
    shot(page, shots / f"workbench-queue-by-host-{backend}.png")  # the same either way

    # Take the group.
    analyst_page.check(f"input[name=group_keys][value='{HOST}']")
    analyst_page.select("select[name=action]", "take")
    analyst_page.click("button[name=scope][value=selected]")
    page.wait_for_url(re.compile(r"/cases/bulk/result$"))
    assert "50 cases done" in page.inner_text(".bulk-counts")
    # Next on the same selection: assess, the hosting country from the directory.
    assert page.input_value("select[name=action]") == "assess"
    assert page.locator("fieldset[data-for-action=assess]").is_visible()
    assert page.input_value("select[name=assess-hosting_country]") == "KH"
    assert page.locator("input[name=case_ids]:checked").count() == 50

    analyst_page.select("select[name=assess-classification]", "illegal_baseline")
    analyst_page.select("select[name=assess-media_type]", "image")
    analyst_page.select("select[name=assess-site_type]", "image_host")
    analyst_page.click("button[name=scope][value=selected]")
    page.wait_for_load_state()
    assert "50 cases done" in page.inner_text(".bulk-counts")
    # Next: the routing suggestion; the provider whose domain covers the host filled in.
    if police_first:
        assert page.input_value("select[name=action]") == "refer_to_police"
        analyst_page.select("select[name=action]", "request_notice")
    assert page.input_value("select[name=action]") == "request_notice"
    assert page.input_value("select[name=request_notice-provider_id]") == str(provider.id)

    analyst_page.click("button[name=scope][value=selected]")
    page.wait_for_load_state()
    assert "50 cases done" in page.inner_text(".bulk-counts")
    assert page.locator("td.status .state-notice_pending").count() == 50
    tag = f"{backend}-{'police-first' if police_first else 'notice-first'}"
    shot(page, shots / f"workbench-bulk-result-{tag}.png")

    interactions, page_loads = analyst_page.interactions, len(loads)
    counts = f"{len(interactions)} interactions, {page_loads} page loads"
    print(f"\nworkbench flow ({police_first=}): {counts}")
    print("\n".join(interactions + loads + documents))
    assert len(interactions) <= MAX_INTERACTIONS, interactions
    assert page_loads <= MAX_LOADS, loads
    assert len(documents) <= MAX_LOADS, documents
    assert not [p for p in problems if "status of 4" not in p], problems
    context.close()

    db.session.expire_all()
    cases = db.session.scalars(select(Case).where(Case.id.in_(ids))).all()
    assert len(cases) == 50
    for case in cases:
        assert (case.status, case.provider_id, case.assignee_id) == (
            "notice_pending",
            provider.id,
            analyst.id,
        ), case.reference
    events = db.session.execute(
        select(CaseEvent.case_id, CaseEvent.action).where(CaseEvent.case_id.in_(ids))
    ).all()
    for case_id in ids:
        mine = {action for owner, action in events if owner == case_id}
        assert {"assign", "assess", "request_notice"} <= mine, (case_id, mine)
    other = db.session.scalar(select(Case).where(Case.host == "other.example.org"))
    assert (other.status, other.assignee_id) == ("new", None)

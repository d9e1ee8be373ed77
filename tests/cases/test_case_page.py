"""The case page as an analyst works from it: one-click take, the next step
open and pre-filled, failures that keep what was typed (post/redirect/get),
what the reporter said, the other cases on the same host."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.cases import page_state, related
from casemgr.cases import services as cases
from casemgr.cases.models import Case, CaseEvent
from casemgr.extensions import db
from tests.conftest import login
from tests.factories import ILLEGAL


class FakeDNS:
    def __init__(self, answers):
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host):
        self.calls.append(host)
        return self.answers.get(host, [])


def page_of(client, case) -> str:
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def opened(page: str) -> list[str]:
    """The action panels shown open."""
    return re.findall(r'<details class="action" id="action-(\w+)" open>', page)


def panels(page: str) -> list[str]:
    return re.findall(r'<details class="action" id="action-(\w+)"', page)


def selected(page: str, name: str) -> str | None:
    start = page.index(f'name="{name}"')
    html = page[start : page.index("</select>", start)]
    found = re.search(r'<option selected value="([^"]*)">', html)
    return found.group(1) if found else None


def take_form(page: str) -> dict[str, str]:
    form = page[page.index('<form class="take"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))


def act(case, action, analyst, fields):
    cases.apply_action(
        db.session,
        case,
        action,
        fields,
        actor=analyst.actor,
        now=context.now(),
        timings=context.timings(),
    )
    db.session.commit()


# --- one-click take


class TestTake:
    def test_one_post_takes_the_case_and_opens_the_assessment(self, client, make, analyst):
        case = make.case("new")
        page = page_of(login(client, analyst), case)
        assert opened(page) == []  # the Take button is the next step, no form to open
        fields = take_form(page)
        assert fields["assign-assignee_id"] == str(analyst.id)
        response = client.post(f"/cases/{case.id}/actions/assign", data=fields)
        assert response.status_code == 303
        assert response.location == f"/cases/{case.id}"
        db.session.refresh(case)
        assert (case.status, case.assignee_id) == ("triage", analyst.id)
        page = page_of(client, case)
        assert "Taken: the case is now In triage." in page
        assert opened(page) == ["assess"]
        assert panels(page)[0] == "assess"
        assert '<form class="take"' not in page  # it is mine now

    def test_no_take_button_on_a_colleagues_case_and_a_forged_one_is_refused(
        self, client, make, analyst
    ):
        colleague = make.user("analyst", name="Col League")
        case = make.case("triage", by=colleague)
        page = page_of(login(client, analyst), case)
        assert '<form class="take"' not in page
        assert "/actions/assign" not in page
        response = client.post(
            f"/cases/{case.id}/actions/assign",
            data={"assign-version": case.version, "assign-assignee_id": analyst.id},
        )
        assert response.status_code == 403
        assert "only a supervisor can reassign it" in response.get_data(as_text=True)
        db.session.refresh(case)
        assert case.assignee_id == colleague.id
        assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 2

    def test_an_analyst_cannot_take_it_for_somebody_else(self, client, make, analyst):
        colleague = make.user("analyst", name="Col League")
        case = make.case("new")
        login(client, analyst)
        response = client.post(
            f"/cases/{case.id}/actions/assign",
            data={"assign-version": case.version, "assign-assignee_id": colleague.id},
        )
        assert response.status_code == 303
        page = page_of(client, case)
        assert "only a supervisor can give a case to someone else" in page
        db.session.refresh(case)
        assert (case.status, case.assignee_id) == ("new", None)

    def test_a_supervisor_takes_over_a_colleagues_case(self, client, make, supervisor):
        colleague = make.user("analyst", name="Col League")
        case = make.case("triage", by=colleague)
        page = page_of(login(client, supervisor), case)
        assert "Take over from Col League" in page
        response = client.post(f"/cases/{case.id}/actions/assign", data=take_form(page))
        assert response.status_code == 303
        db.session.refresh(case)
        assert case.assignee_id == supervisor.id

    def test_the_assignee_list_starts_with_me(self, client, make, supervisor):
        make.user("admin", name="Aaron Admin")
        case = make.case("new")
        page = page_of(login(client, supervisor), case)
        select_html = page[page.index('name="assign-assignee_id"') :]
        options = re.findall(r'<option (?:selected )?value="(\d*)">([^<]*)<', select_html)
        assert options[0] == ("", "—")
        assert options[1] == (str(supervisor.id), f"{supervisor.name} (you)")
        assert selected(page, "assign-assignee_id") == str(supervisor.id)

    def test_anonymous_cannot_take(self, client, make):
        case = make.case("new")
        response = client.post(f"/cases/{case.id}/actions/assign", data={"assign-version": 1})
        assert response.status_code == 302 and "/login" in response.location
        db.session.refresh(case)
        assert case.status == "new"


# --- next step first, required fields, pre-filled


def test_one_panel_open_at_a_time(client, make, analyst):
    case = make.case("triage", by=analyst)
    page = page_of(login(client, analyst), case)
    assert opened(page) == ["assess"]
    assert set(panels(page)) == {"assess", "assign", "mark_duplicate", "close_unavailable"}


def test_after_an_illegal_assessment_the_routing_suggestion_is_open(client, make, analyst):
    police = make.organisation("police", name="National Police", country="KH")
    case = make.case("triage", by=analyst)
    login(client, analyst)
    response = client.post(
        f"/cases/{case.id}/actions/assess",
        data={f"assess-{k}": v for k, v in ILLEGAL.items()} | {"assess-version": case.version},
    )
    assert response.status_code == 303
    page = page_of(client, case)
    assert "Assessed: the case is now Action required." in page
    assert opened(page) == ["refer_to_police"]
    assert selected(page, "refer_to_police-police_id") == str(police.id)


def test_required_fields_are_marked_and_conditional_ones_explained(client, make, analyst):
    case = make.case("triage", by=analyst)
    page = page_of(login(client, analyst), case)
    classification = re.search(r"<select[^>]*name=\"assess-classification\"[^>]*>", page).group(0)
    assert " required" in classification and 'aria-required="true"' in classification
    media = re.search(r"<select[^>]*name=\"assess-media_type\"[^>]*>", page).group(0)
    assert "required" not in media
    assert "Required when the classification is illegal" in page
    age = re.search(r"<select[^>]*name=\"assess-age_group\"[^>]*>", page).group(0)
    assert "required" not in age
    assert '<option value="illegal_baseline">Illegal: international baseline</option>' in page
    assert '<option value="image_host">Image host</option>' in page


@pytest.fixture
def host_directory(make):
    return {
        "provider": make.organisation(
            name="Narrow Host", country="DE", domains="files.example.org", networks="192.0.2.0/24"
        ),
        "partner": make.organisation("hotline", name="Partner DE", country="DE"),
    }


def test_a_trace_fills_the_assessment_and_then_the_next_step(
    app, client, make, analyst, host_directory
):
    dns = app.extensions["casemgr.resolver"] = FakeDNS({"files.example.org": ["192.0.2.9"]})
    case = make.case("triage", by=analyst, url="http://files.example.org/a/1")
    login(client, analyst)
    response = client.post(f"/cases/{case.id}/trace")
    assert response.status_code == 303
    assert response.location == f"/cases/{case.id}#trace"
    page = page_of(client, case)
    assert "192.0.2.9" in page and "Narrow Host (DE)" in page
    assert selected(page, "assess-hosting_country") == "DE"
    assert re.search(r'name="assess-hosting_ip"[^>]*value="192.0.2.9"', page)
    act(case, "assess", analyst, dict(ILLEGAL, hosting_country="DE"))
    page = page_of(client, case)
    assert "Narrow Host (DE)" in page  # the trace is still shown while the case is worked
    assert opened(page) == ["forward_to_partner"]
    assert selected(page, "request_notice-provider_id") == str(host_directory["provider"].id)
    assert dns.calls == ["files.example.org"]  # showing it again looks nothing up


def test_the_directory_fills_the_provider_without_a_trace(app, client, make, analyst):
    provider = make.organisation(name="Example Hosting", country="KH", domains="example.com")
    app.extensions["casemgr.resolver"] = dns = FakeDNS({})
    case = make.case("action_required", by=analyst, url="http://img.example.com/1")
    page = page_of(login(client, analyst), case)
    assert selected(page, "request_notice-provider_id") == str(provider.id)
    assert dns.calls == []


# --- post/redirect/get on failure


class TestFailedSubmission:
    def test_the_values_and_errors_come_back_once(self, client, make, analyst):
        case = make.case("triage", by=analyst)
        login(client, analyst)
        response = client.post(
            f"/cases/{case.id}/actions/assess",
            data={
                "assess-version": case.version,
                "assess-classification": "illegal_baseline",
                "assess-site_type": "forum",
                "assess-hosting_ip": "not an address",
            },
        )
        assert response.status_code == 303
        assert response.location == f"/cases/{case.id}"
        page = page_of(client, case)
        summary = page[page.index('class="error-summary"') : page.index('class="heading-row"')]
        assert "Assess was not done" in summary
        assert '<a href="#assess-media_type">Media type: is required</a>' in summary
        assert '<a href="#assess-hosting_country">Hosting country: is required</a>' in summary
        assert "Hosting IP: must be an IPv4 or IPv6 address" in summary
        assert selected(page, "assess-classification") == "illegal_baseline"
        assert selected(page, "assess-site_type") == "forum"
        assert re.search(r'name="assess-hosting_ip"[^>]*value="not an address"', page)
        assert re.search(
            r'<select aria-describedby="assess-media_type-errors" aria-invalid="true"', page
        )
        assert '<span id="assess-media_type-errors"><small class="error">is required' in page
        assert opened(page) == ["assess"]
        again = page_of(client, case)
        assert "error-summary" not in again
        assert selected(again, "assess-classification") is None
        db.session.refresh(case)
        assert case.status == "triage"

    def test_an_error_from_the_workflow_comes_back_the_same_way(self, client, make, analyst):
        copy = make.case("new")
        login(client, analyst)
        response = client.post(
            f"/cases/{copy.id}/actions/mark_duplicate",
            data={"mark_duplicate-duplicate_of": "CM-2026-999999"},
        )
        assert response.status_code == 303
        page = page_of(client, copy)
        assert "no case with this id or reference" in page
        assert 'value="CM-2026-999999"' in page
        assert opened(page) == ["mark_duplicate"]

    def test_kept_only_for_the_case_it_was_about(self, client, make, analyst):
        case, other = make.case("triage", by=analyst), make.case("new")
        login(client, analyst)
        client.post(f"/cases/{case.id}/actions/assess", data={"assess-version": case.version})
        assert "error-summary" not in page_of(client, other)
        assert "error-summary" not in page_of(client, case)  # gone: shown once, elsewhere

    def test_too_much_text_is_not_kept_and_says_so(self, client, make, analyst):
        case = make.case("closed")
        supervisor = make.user("supervisor")
        login(client, supervisor)
        response = client.post(
            f"/cases/{case.id}/actions/reopen",
            data={"reopen-version": case.version, "reopen-reason": "x" * 5000},
        )
        assert response.status_code == 303
        page = page_of(client, case)
        assert "too long to keep" in page
        assert "x" * 100 not in page
        db.session.refresh(case)
        assert case.status == "closed"

    def test_a_stale_form_keeps_the_values_and_says_who_changed_it(self, client, make, analyst):
        case = make.case("triage", by=analyst)
        login(client, analyst)
        response = client.post(
            f"/cases/{case.id}/actions/mark_duplicate",
            data={
                "mark_duplicate-version": case.version - 1,
                "mark_duplicate-duplicate_of": "CM-2026-000001",
            },
        )
        assert response.status_code == 303
        page = page_of(client, case)
        assert f"changed by {analyst.name}" in page
        assert 'value="CM-2026-000001"' in page
        assert re.search(
            rf'name="mark_duplicate-version" type="hidden" value="{case.version}"', page
        )

    def test_the_trace_survives_a_failed_action(self, app, client, make, analyst):
        app.extensions["casemgr.resolver"] = FakeDNS({"files.example.org": ["192.0.2.9"]})
        case = make.case("triage", by=analyst, url="http://files.example.org/a/1")
        login(client, analyst)
        client.post(f"/cases/{case.id}/trace")
        client.post(f"/cases/{case.id}/actions/assess", data={"assess-version": case.version})
        page = page_of(client, case)
        assert "error-summary" in page and "192.0.2.9" in page

    def test_the_reporters_contact_never_goes_into_the_session(self, client, make, analyst):
        case = make.report(
            "http://a.example.com/", reporter_contact="secret@example.net"
        ).submission.cases[0]
        login(client, make.user("supervisor"))
        client.post(f"/cases/{case.id}/contact", data={"contact-reason": "a call"})
        client.post(
            f"/cases/{case.id}/actions/mark_duplicate",
            data={"mark_duplicate-duplicate_of": "secret"},
        )
        with client.session_transaction() as session:
            assert "secret@example.net" not in repr(dict(session))
            assert session[page_state.FAILED_KEY]["values"] == {"duplicate_of": "secret"}


def test_refusals_speak_plain_words(client, make, analyst):
    case = make.case("new")
    login(client, analyst)
    response = client.post(
        f"/cases/{case.id}/actions/confirm_takedown",
        data={"confirm_takedown-removed_at": "2026-11-27T10:00"},
    )
    assert response.status_code == 409
    assert (
        "Confirm takedown is not possible while the case is New. Possible now: Assign, "
        "Mark as duplicate." in response.get_data(as_text=True)
    )


@pytest.mark.parametrize("action", ["close_unavailable", "mark_duplicate"])
def test_a_colleagues_case_is_not_offered_for_closing_and_refused(client, make, analyst, action):
    theirs, original = make.case("triage"), make.case("triage")
    login(client, analyst)
    page = page_of(client, theirs)
    assert f"/cases/{theirs.id}/actions/{action}" not in page
    response = client.post(
        f"/cases/{theirs.id}/actions/{action}",
        data={f"{action}-version": theirs.version, f"{action}-duplicate_of": original.reference},
    )
    assert response.status_code == 403
    assert (
        "Not done: the case is assigned to a colleague; only the assignee or a supervisor "
        "can close it." in response.get_data(as_text=True)
    )
    db.session.refresh(theirs)
    assert theirs.status == "triage"


def test_closing_says_how_it_ended(client, make, analyst):
    case = make.case("triage", by=analyst)
    login(client, analyst)
    client.post(
        f"/cases/{case.id}/actions/assess",
        data={"assess-version": case.version, "assess-classification": "not_illegal"},
    )
    assert "Assessed: the case is now Closed (Not illegal)." in page_of(client, case)


# --- the trace: post/redirect/get


class TestTrace:
    def test_traced_once_shown_after_the_redirect_and_audited(self, app, client, make, analyst):
        dns = app.extensions["casemgr.resolver"] = FakeDNS({"files.example.org": ["192.0.2.9"]})
        case = make.case("triage", by=analyst, url="http://files.example.org/a/1")
        login(client, analyst)
        assert client.post(f"/cases/{case.id}/trace").status_code == 303
        assert "192.0.2.9" in page_of(client, case)
        assert "192.0.2.9" in page_of(client, case)  # a reload shows it, looks nothing up
        assert dns.calls == ["files.example.org"]
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.trace")
        ).all()
        assert [(e.actor_id, e.target_id) for e in entries] == [(analyst.id, str(case.id))]

    def test_kept_for_the_traced_case_only_and_for_a_while(self, app, client, clock, make, analyst):
        app.extensions["casemgr.resolver"] = FakeDNS({"files.example.org": ["192.0.2.9"]})
        case = make.case("triage", by=analyst, url="http://files.example.org/a/1")
        other = make.case("triage", by=analyst, url="http://files.example.org/a/2")
        login(client, analyst)
        client.post(f"/cases/{case.id}/trace")
        assert "192.0.2.9" not in page_of(client, other)
        for _ in range(3):  # staying signed in: a page view every 20 minutes
            clock.advance(minutes=19)
            assert "192.0.2.9" in page_of(client, case)
        clock.advance(minutes=4)
        assert "192.0.2.9" not in page_of(client, case)

    def test_a_failed_look_up_is_shown_after_the_redirect(self, app, client, make, analyst):
        class Broken:
            def __call__(self, host):
                raise RuntimeError("resolver broke")

        app.extensions["casemgr.resolver"] = Broken()
        case = make.case("triage", by=analyst)
        login(client, analyst)
        assert client.post(f"/cases/{case.id}/trace").status_code == 303
        page = page_of(client, case)
        assert "resolver broke" in page and 'role="alert"' in page


def test_kept_trace_is_bounded(app, make):
    from casemgr.directory.tracing import TraceResult

    store: dict = {}
    result = TraceResult("x.example.com", [f"192.0.2.{i}" for i in range(40)], error="e" * 5000)
    page_state.keep_trace(store, 7, result, now=context.now())
    kept = page_state.trace_for(store, db.session, 7, now=context.now())
    assert len(kept.result.addresses) == page_state.MAX_ADDRESSES
    assert kept.more_addresses == 40 - page_state.MAX_ADDRESSES
    assert len(kept.result.error) == page_state.MAX_MESSAGE_CHARS
    assert page_state.trace_for(store, db.session, 8, now=context.now()) is None
    later = context.now() + page_state.TRACE_KEPT + timedelta(seconds=1)
    assert page_state.trace_for(store, db.session, 7, now=later) is None


# --- what the reporter said


def test_everything_the_reporter_said_is_on_the_page(client, make, analyst):
    result = make.report(
        "http://a.example.com/1",
        "http://a.example.com/2",
        "http://b.example.com/3",
        seen_where="social_media",
        language="km",
        feedback_requested=True,
        reporter_contact="reporter@example.net",
        description="Found in a group chat.",
    )
    first, second, third = result.submission.cases
    act(second, "assign", analyst, {})
    page = page_of(login(client, analyst), first)
    assert "Public report form" in page
    assert "On social media" in page
    assert "Khmer" in page
    assert "The reporter asked to hear what happens" in page
    assert "Found in a group chat." in page
    report = page[page.index('id="same-report"') :]
    report = report[: report.index("</ul>")]
    assert "2 other URLs in this report" in report
    assert f'href="/cases/{second.id}">{second.reference}</a>' in report
    assert "In triage" in report and "http://b.example.com/3" in report
    assert f">{first.reference}<" not in report


def test_a_staff_report_says_what_is_not_known(client, make, analyst):
    case = make.report("http://a.example.com/1", source="phone").submission.cases[0]
    page = page_of(login(client, analyst), case)
    assert "Telephone" in page and "Not asked for" in page
    assert "Where they saw it" not in page and "Report made in" not in page
    assert 'id="same-report"' not in page


def test_a_big_report_links_to_all_of_it(client, make, analyst):
    urls = [f"http://c.example.com/{i}" for i in range(related.SIBLINGS_SHOWN + 3)]
    submission = make.report(*urls).submission
    page = page_of(login(client, analyst), submission.cases[0])
    assert f"{len(urls) - 1} other URLs in this report" in page
    report = page[page.index('id="same-report"') : page.index('id="same-host"')]
    assert report.count("<li>") == related.SIBLINGS_SHOWN
    assert f"All {len(urls)} URLs of this report in the queue" in page


# --- the same host


def test_the_other_open_cases_on_the_same_host(client, make, analyst):
    case = make.case("new", url="http://big.example.net/1")
    siblings = [make.case("triage", url=f"http://big.example.net/{i}") for i in (2, 3)]
    closed = make.case("closed", url="http://big.example.net/4")
    elsewhere = make.case("new", url="http://small.example.net/1")
    page = page_of(login(client, analyst), case)
    host = page[page.index('id="same-host"') :]
    host = host[: host.index("</p>")]
    assert "2 other open cases on big.example.net" in host
    for sibling in siblings:
        assert f'href="/cases/{sibling.id}">{sibling.reference}</a>' in host
    assert closed.reference not in host and elsewhere.reference not in host
    assert "In triage" in host
    assert 'href="/cases/?q=big.example.net&amp;view=open"' in host


def test_no_same_host_section_when_alone(client, make, analyst):
    case = make.case("new", url="http://alone.example.net/1")
    assert 'id="same-host"' not in page_of(login(client, analyst), case)


def test_many_on_one_host_are_counted_up_to_a_limit(client, make, analyst, monkeypatch):
    monkeypatch.setattr(related, "COUNT_LIMIT", 3)
    monkeypatch.setattr(related, "SAME_HOST_SHOWN", 2)
    submission = make.report(*[f"http://many.example.net/{i}" for i in range(6)]).submission
    page = page_of(login(client, analyst), submission.cases[0])
    assert "More than 3 other open cases on many.example.net" in page


def test_same_host_query_counts_exactly_below_the_limit(app, make):
    submission = make.report(*[f"http://few.example.net/{i}" for i in range(8)]).submission
    found = related.open_on_same_host(db.session, submission.cases[0])
    assert (len(found.shown), found.total, found.more_than) == (related.SAME_HOST_SHOWN, 7, False)
    assert [c.id for c in found.shown] == sorted((c.id for c in found.shown), reverse=True)


# --- labels on the page


def test_codes_are_shown_in_words(client, make, analyst):
    case = make.case("action_required", by=analyst)
    page = page_of(login(client, analyst), case)
    top = page[: page.index("<h2>History</h2>")]
    assert '<span class="state state-action_required">Action required</span>' in top
    assert "Illegal: international baseline" in top
    assert "Images · Image host" in top
    assert "illegal_baseline</" not in top and "action_required</" not in top
    closed = make.case("closed")
    assert "Not illegal" in page_of(client, closed)


def test_the_cases_count_stays_the_same_after_a_reload_of_a_failure(client, make, analyst):
    """Nothing a reload of the page could send again: the failure answered a redirect."""
    case = make.case("new")
    login(client, analyst)
    response = client.post(
        f"/cases/{case.id}/actions/mark_duplicate", data={"mark_duplicate-duplicate_of": ""}
    )
    assert response.status_code == 303
    assert client.get(response.location).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1

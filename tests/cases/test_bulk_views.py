"""Bulk actions from the queue (casemgr.cases.bulk_views): the selection, the
service's answer per case, the result page after a redirect."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from casemgr.cases.models import Case, CaseEvent
from casemgr.extensions import db
from tests.conftest import login


def events() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent))


def result_rows(html: str) -> dict[str, str]:
    """reference -> what happened, from the result page."""
    found = re.findall(r'data-open>(CM-\d{4}-\d+)</a>.*?<td class="outcome">(.*?)</td>', html, re.S)
    return {reference: re.sub(r"<[^>]+>", "", text).strip() for reference, text in found}


class TestTake:
    def test_the_selected_cases_then_the_result_after_a_redirect(self, client, make, analyst):
        first, second = make.case("new"), make.case("new")
        login(client, analyst)
        response = client.post(
            "/cases/bulk",
            data={"action": "take", "case_ids": [first.id, second.id], "queue": "view=open"},
        )
        assert response.status_code == 303 and response.location.endswith("/cases/bulk/result")
        html = client.get(response.location).get_data(as_text=True)
        assert result_rows(html) == {first.reference: "Done", second.reference: "Done"}
        assert "2 cases done" in html
        for case in (first, second):
            db.session.refresh(case)
            assert (case.status, case.assignee_id) == ("triage", analyst.id)

    def test_reloading_the_result_sends_nothing_again(self, client, make, analyst):
        case = make.case("new")
        login(client, analyst)
        client.post("/cases/bulk", data={"action": "take", "case_ids": case.id})
        before = events()
        for _ in range(2):
            assert client.get("/cases/bulk/result").status_code == 200
        assert events() == before

    def test_a_rows_take_button_comes_back_to_the_queue(self, client, make, analyst):
        case, other = make.case("new"), make.case("new")
        login(client, analyst)
        response = client.post(
            "/cases/bulk",
            data={"take_one": case.id, "case_ids": [other.id], "queue": "view=unassigned"},
        )
        assert response.status_code == 303
        assert response.location == f"/cases/?view=unassigned#case-{case.id}"
        db.session.refresh(case)
        db.session.refresh(other)
        assert (case.assignee_id, other.assignee_id) == (analyst.id, None)
        assert f"{case.reference} is yours now." in client.get(response.location).get_data(
            as_text=True
        )


class TestPartialFailure:
    def test_cases_that_cannot_are_reported_and_the_others_go_through(self, client, make, analyst):
        ready, closed = make.case("triage", by=analyst), make.case("closed")
        login(client, analyst)
        response = client.post(
            "/cases/bulk",
            data={
                "action": "assess",
                "case_ids": [ready.id, closed.id],
                "assess-classification": "not_illegal",
            },
        )
        html = client.get(response.location).get_data(as_text=True)
        outcomes = result_rows(html)
        assert outcomes[ready.reference] == "Done"
        assert outcomes[closed.reference].startswith("Refused:")
        assert "1 case done" in html and "1 case refused" in html
        db.session.refresh(ready)
        assert (ready.status, ready.resolution) == ("closed", "not_illegal")
        # the done ones stay ticked for the next action, the refused not
        assert re.search(rf'value="{ready.id}" [^>]*checked', html)
        assert not re.search(rf'value="{closed.id}" [^>]*checked', html)

    def test_a_missing_field_is_named_nothing_changes_and_what_was_typed_stays(
        self, client, make, analyst
    ):
        case = make.case("triage", by=analyst)
        login(client, analyst)
        before = events()
        response = client.post(
            "/cases/bulk",
            data={
                "action": "assess",
                "case_ids": [case.id],
                "assess-classification": "illegal_baseline",
                "assess-hosting_ip": "192.0.2.7",
            },
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "is required" in html or "media_type" in html
        assert 'value="192.0.2.7"' in html
        assert re.search(rf'name="case_ids" value="{case.id}"[^>]*checked', html)
        assert events() == before

    def test_what_the_service_refuses_whole_is_shown_on_its_field(self, client, make, analyst):
        case = make.case("new")
        login(client, analyst)
        response = client.post(
            "/cases/bulk",
            data={"action": "add_note", "case_ids": [case.id], "add_note-body": "   "},
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert re.search(r'class="field has-error".*?add_note-body', html, re.S)
        assert events() == 0 or not case.notes

    def test_a_colleagues_case_is_refused_for_an_analyst(self, client, make, analyst):
        colleague = make.user("analyst")
        theirs = make.case("triage", by=colleague)
        login(client, analyst)
        response = client.post("/cases/bulk", data={"action": "take", "case_ids": [theirs.id]})
        html = client.get(response.location).get_data(as_text=True)
        assert "assigned to a colleague" in result_rows(html)[theirs.reference]
        db.session.refresh(theirs)
        assert theirs.assignee_id == colleague.id

    @pytest.mark.parametrize("action", ["close_unavailable", "mark_duplicate"])
    def test_closing_a_colleagues_case_is_refused(self, client, make, analyst, action):
        original = make.case("triage", by=analyst)
        theirs, mine = make.case("triage"), make.case("triage", by=analyst)
        login(client, analyst)
        data = {"action": action, "case_ids": [theirs.id, mine.id]}
        if action == "mark_duplicate":
            data["mark_duplicate-duplicate_of"] = original.reference
        response = client.post("/cases/bulk", data=data)
        html = client.get(response.location).get_data(as_text=True)
        assert (
            "only the assignee or a supervisor can close it" in result_rows(html)[theirs.reference]
        )
        db.session.expire_all()
        assert (theirs.status, db.session.get(Case, mine.id).status) == ("triage", "closed")


class TestSelections:
    def test_every_case_matching_the_filter(self, client, make, analyst):
        on_host = [make.case("new", url=f"http://big.example.com/{n}") for n in range(3)]
        elsewhere = make.case("new", url="http://small.example.com/")
        login(client, analyst)
        client.post(
            "/cases/bulk",
            data={"action": "take", "scope": "matching", "queue": "view=open&host=big.example.com"},
        )
        for case in on_host:
            db.session.refresh(case)
            assert case.assignee_id == analyst.id
        db.session.refresh(elsewhere)
        assert elsewhere.assignee_id is None

    def test_a_ticked_host_group(self, client, make, analyst):
        on_host = [make.case("new", url=f"http://big.example.com/{n}") for n in range(2)]
        elsewhere = make.case("new", url="http://small.example.com/")
        login(client, analyst)
        client.post(
            "/cases/bulk",
            data={
                "action": "take",
                "group": "host",
                "group_keys": ["big.example.com"],
                "queue": "view=open&group=host",
            },
        )
        assigned = {
            c.id for c in db.session.scalars(select(Case).where(Case.assignee_id == analyst.id))
        }
        assert assigned == {c.id for c in on_host} and elsewhere.id not in assigned

    def test_a_note_on_many(self, client, make, analyst):
        first, second = make.case("new"), make.case("triage", by=analyst)
        login(client, analyst)
        response = client.post(
            "/cases/bulk",
            data={
                "action": "add_note",
                "case_ids": [first.id, second.id],
                "add_note-body": "Called the provider: they will look today.",
            },
        )
        html = client.get(response.location).get_data(as_text=True)
        assert set(result_rows(html).values()) == {"Done"}

    def test_a_notice_for_one_provider(self, client, make, analyst):
        provider = make.organisation("hosting_provider")
        cases = [make.case("action_required", by=analyst) for _ in range(2)]
        login(client, analyst)
        client.post(
            "/cases/bulk",
            data={
                "action": "request_notice",
                "case_ids": [c.id for c in cases],
                "request_notice-provider_id": provider.id,
            },
        )
        for case in cases:
            db.session.refresh(case)
            assert (case.status, case.provider_id) == ("notice_pending", provider.id)


def test_the_result_page_without_a_result_goes_to_the_queue(client, analyst):
    login(client, analyst)
    response = client.get("/cases/bulk/result")
    assert response.status_code == 302 and response.location == "/cases/"

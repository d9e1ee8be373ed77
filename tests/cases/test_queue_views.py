"""The queue screen: rows, counts, orders, groups, bad addresses, the way to a
case and back, and the bulk form's refusals (casemgr.cases.queue_page, views,
bulk_views)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from casemgr.cases.models import Case
from casemgr.extensions import db
from tests.conftest import login


def rows(html: str) -> list[str]:
    """The references of the case rows, in order."""
    return re.findall(r"data-open>(CM-\d{4}-\d+)</a>", html)


@pytest.fixture
def queue(make, analyst, clock):
    now = clock.now()
    made = {
        "old": make.case("new", url="http://b.example.com/old", at=now - timedelta(days=3)),
        "mine": make.case(
            "triage", by=analyst, url="http://a.example.com/x", at=now - timedelta(days=2)
        ),
        "pending": make.case(
            "notice_pending", by=analyst, url="http://c.example.com/", at=now - timedelta(days=1)
        ),
    }
    pair = make.report(
        "http://b.example.com/1", "http://b.example.com/2", at=now - timedelta(hours=1)
    )
    # received together: the newer id first, as the queue shows them
    made["pair"] = sorted(pair.submission.cases, key=lambda case: case.id, reverse=True)
    return made


class TestScreen:
    def test_rows_newest_first_with_the_count(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/").get_data(as_text=True)
        pair = [c.reference for c in queue["pair"]]
        assert rows(html) == [
            *pair,
            queue["pending"].reference,
            queue["mine"].reference,
            queue["old"].reference,
        ]
        assert "5 cases" in html
        assert 'aria-sort="descending"' in html  # received, newest first

    def test_a_url_on_one_line_host_whole_full_url_in_title_and_copy_button_for_js(
        self, client, analyst, queue
    ):
        login(client, analyst)
        html = client.get("/cases/").get_data(as_text=True)
        assert '<span class="url-head">a.example.com</span><span class="url-rest">/x</span>' in html
        assert 'title="http://a.example.com/x"' in html
        copy = re.search(
            r'<button type="button" class="copy" data-copy="http://a.example.com/x"[^>]*>', html
        )
        assert copy and " hidden" in copy.group(0)  # shown by the script only

    def test_siblings_of_a_submission_are_marked_and_linked(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/").get_data(as_text=True)
        submission_id = queue["pair"][0].submission_id
        # The first of the report's rows links to all of them; the next is marked as following.
        assert html.count(f"/cases/?submission={submission_id}&amp;view=all") == 1
        assert f'<tr id="case-{queue["pair"][1].id}" class=" sibling">' in html
        assert f'<tr id="case-{queue["pair"][0].id}" class="">' in html
        listed = client.get(f"/cases/?submission={submission_id}&view=all").get_data(as_text=True)
        assert rows(listed) == [c.reference for c in queue["pair"]]

    def test_states_in_plain_words(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/").get_data(as_text=True)
        assert "Notice queued" in html and "notice_pending<" not in html

    def test_take_on_unassigned_cases_only(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/").get_data(as_text=True)
        take = re.findall(r'name="take_one" value="(\d+)"', html)
        assert sorted(map(int, take)) == sorted([queue["old"].id, *(c.id for c in queue["pair"])])

    @pytest.mark.parametrize(
        ("query", "first", "direction"),
        [
            ("sort=received", "old", "ascending"),
            ("sort=-due", "pair", "descending"),
            ("sort=state&dir=desc", "pending", "descending"),
            ("sort=host", "mine", "ascending"),
        ],
    )
    def test_sortable_columns(self, client, analyst, queue, query, first, direction):
        login(client, analyst)
        html = client.get(f"/cases/?{query}").get_data(as_text=True)
        expected = queue[first][0] if first == "pair" else queue[first]
        assert rows(html)[0] == expected.reference
        assert f'aria-sort="{direction}"' in html

    def test_the_overdue_view_most_overdue_first(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/?view=overdue").get_data(as_text=True)
        assert rows(html)[:2] == [queue["old"].reference, queue["mine"].reference]

    def test_grouped_by_host(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/?group=host").get_data(as_text=True)
        assert "5 cases · 3 hosts" in html
        first = re.search(r'<a href="([^"]+)" data-open>([^<]+)</a>', html)
        assert first.group(2) == "b.example.com"  # 3 cases: the biggest first
        opened = client.get(first.group(1).replace("&amp;", "&")).get_data(as_text=True)
        assert sorted(rows(opened)) == sorted(
            [queue["old"].reference, *(c.reference for c in queue["pair"])]
        )
        assert 'name="group_keys" value="b.example.com"' in html

    def test_grouped_by_submission(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/?group=submission").get_data(as_text=True)
        assert queue["pair"][0].submission.reference in html and "4 submissions" in html

    @pytest.mark.parametrize(
        ("query", "parameter"),
        [
            ("sort=colour", "sort"),
            ("group=planet", "group"),
            ("sort=due&dir=up", "dir"),
            ("group=host&sort=state", "sort"),
            ("host=a%20b", "host"),
        ],
    )
    def test_an_unknown_order_or_grouping_is_a_400_naming_it_in_the_usual_order(
        self, client, analyst, queue, query, parameter
    ):
        login(client, analyst)
        response = client.get(f"/cases/?{query}")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert re.search(rf'role="alert">.*<li>{parameter}: ', html, re.S)
        if "group=host" not in query:
            assert rows(html)[0] == queue["pair"][0].reference

    @pytest.mark.parametrize(
        "query",
        ["sort=%00", "group=" + "g" * 5000, "page=99999999999", "submission=-1", "sort=-" * 10],
    )
    def test_nonsense_is_never_a_500(self, client, analyst, query):
        login(client, analyst)
        assert client.get(f"/cases/?{query}").status_code in (200, 400)

    def test_filters_work_without_javascript(self, client, analyst, queue):
        """The filter form is a GET form with a Filter button; the script only sends it sooner."""
        login(client, analyst)
        html = client.get("/cases/").get_data(as_text=True)
        form = re.search(
            r'<form class="filters" method="get"[^>]*data-autosubmit>(.*?)</form>', html, re.S
        )
        assert form and '<button type="submit">Filter</button>' in form.group(1)
        names = set(re.findall(r'name="(\w+)"', form.group(1)))
        assert {"q", "status", "classification", "hosting_country", "group", "view"} <= names
        filtered = client.get(
            "/cases/?view=open&q=&status=triage&classification=&hosting_country=&group="
        )
        assert rows(filtered.get_data(as_text=True)) == [queue["mine"].reference]

    def test_the_filter_form_keeps_the_order(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/?sort=-due").get_data(as_text=True)
        assert '<input type="hidden" name="sort" value="-due">' in html

    def test_the_page_loads_our_script_and_nothing_else(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/").get_data(as_text=True)
        assert re.findall(r"<script[^>]*>", html) == [
            '<script src="/static/js/workbench.js" defer>'
        ]
        script = client.get("/static/js/workbench.js")
        script.close()
        assert script.status_code == 200
        assert 'id="shortcuts"' in html and "<kbd>j</kbd>" in html


class TestToACaseAndBack:
    def test_a_row_carries_the_queue_to_the_case_page(self, client, analyst, queue):
        login(client, analyst)
        html = client.get("/cases/?sort=host&page=1").get_data(as_text=True)
        link = re.search(rf'href="([^"]+)" data-open>{queue["mine"].reference}<', html).group(1)
        came_from = parse_qs(urlsplit(link.replace("&amp;", "&")).query)["from"][0]
        assert parse_qs(came_from) == {"view": ["open"], "sort": ["host"]}

    def test_previous_and_next_follow_the_queues_order(self, client, analyst, queue):
        login(client, analyst)
        case = queue["mine"]  # sorted by host: a.example.com (mine), then b... (newest first), c...
        html = client.get(f"/cases/{case.id}?from=view%3Dopen%26sort%3D-host").get_data(
            as_text=True
        )
        nav = re.search(r'<nav class="case-nav".*?</nav>', html, re.S).group(0)
        assert f"/cases/{queue['pending'].id}?from=" not in nav or 'rel="next"' in nav
        previous = re.search(r'href="/cases/(\d+)\?from=[^"]+" rel="prev"', nav)
        assert previous.group(1) == str(queue["old"].id)  # b.example.com's oldest, just before
        assert 'rel="next"' not in nav  # a.example.com is the last host backwards
        back = re.search(r'href="(/cases/\?[^"]+)" data-shortcut="queue"', nav).group(1)
        assert back.replace("&amp;", "&") == f"/cases/?view=open&sort=-host#case-{case.id}"

    def test_the_queue_remembered_when_the_address_does_not_say(self, client, analyst, queue):
        """After an action the case page is reached by a redirect without ?from=."""
        login(client, analyst)
        client.get("/cases/?sort=received&page=1")
        html = client.get(f"/cases/{queue['mine'].id}").get_data(as_text=True)
        nav = re.search(r'<nav class="case-nav".*?</nav>', html, re.S).group(0)
        assert (
            f'href="/cases/{queue["old"].id}?from=view%3Dopen%26sort%3Dreceived" rel="prev"' in nav
        )
        assert f"/cases/{queue['pending'].id}?from=" in nav

    def test_without_a_queue_to_follow_just_the_way_back(self, client, analyst, queue):
        login(client, analyst)
        html = client.get(f"/cases/{queue['mine'].id}?from=sort%3Dnonsense").get_data(as_text=True)
        assert 'rel="next"' not in html and 'rel="prev"' not in html
        assert 'data-shortcut="queue"' in html


class TestBulkForm:
    """What the bulk view refuses before any case is touched."""

    def test_anonymous_is_sent_to_sign_in(self, client, queue):
        response = client.post("/cases/bulk", data={"action": "take", "case_ids": queue["old"].id})
        assert response.status_code == 302 and "/login" in response.location
        assert db.session.get(Case, queue["old"].id).assignee_id is None

    def test_no_action_is_named(self, client, analyst, queue):
        login(client, analyst)
        response = client.post(
            "/cases/bulk", data={"case_ids": queue["old"].id, "queue": "view=open"}
        )
        assert response.status_code == 422
        assert "action: choose what to do" in response.get_data(as_text=True)

    @pytest.mark.parametrize("case_ids", [[], ["abc"], ["0"], ["99999999999999"]])
    def test_no_or_bad_selection_is_named(self, client, analyst, queue, case_ids):
        login(client, analyst)
        response = client.post("/cases/bulk", data={"action": "take", "case_ids": case_ids})
        assert response.status_code == 422
        assert "case_ids: " in response.get_data(as_text=True)
        assert db.session.get(Case, queue["old"].id).assignee_id is None

    def test_more_than_the_limit_is_refused_saying_the_limit(
        self, client, analyst, queue, monkeypatch
    ):
        from casemgr.cases import bulk_views

        monkeypatch.setattr(bulk_views, "MAX_BULK_CASES", 3)
        login(client, analyst)
        response = client.post(
            "/cases/bulk", data={"action": "take", "scope": "matching", "queue": "view=open"}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "more than 3 cases are selected" in html
        assert all(c.assignee_id is None for c in [queue["old"], *queue["pair"]])

    def test_what_was_typed_stays_when_the_request_is_refused(self, client, analyst, queue):
        login(client, analyst)
        response = client.post(
            "/cases/bulk",
            data={"action": "assess", "assess-hosting_ip": "192.0.2.7", "queue": "view=open"},
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and "case_ids: " in html
        assert 'value="192.0.2.7"' in html
        assert re.search(r'<option value="assess" selected>', html)
        assert re.search(r'<details class="bulk-fields" open>', html)

    def test_all_matching_says_when_too_many_match(self, client, analyst, queue, monkeypatch):
        from casemgr.cases import bulk_forms

        login(client, analyst)
        html = client.get("/cases/").get_data(as_text=True)
        assert '<button type="submit" name="scope" value="matching">Apply to all 5 matching' in html
        monkeypatch.setattr(bulk_forms, "MAX_BULK_CASES", 4)
        html = client.get("/cases/").get_data(as_text=True)
        assert '<button type="submit" name="scope" value="matching" disabled>' in html
        assert "More than 4 cases match: narrow the filter" in html

    def test_a_refused_request_shows_the_queue_again_with_what_was_ticked(
        self, client, analyst, queue
    ):
        login(client, analyst)
        response = client.post(
            "/cases/bulk",
            data={"action": "", "case_ids": [queue["old"].id], "queue": "view=open&sort=host"},
        )
        html = response.get_data(as_text=True)
        assert re.search(rf'name="case_ids" value="{queue["old"].id}"[^>]*checked', html)
        assert rows(html)[0] == queue["mine"].reference  # the queue's own order


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_bulk_post_without_its_token_is_refused(self, client, analyst, queue):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post(
            "/login",
            data={"email": analyst.email, "password": "correct horse battery", "csrf_token": token},
        )
        response = client.post("/cases/bulk", data={"action": "take", "case_ids": queue["old"].id})
        assert response.status_code == 400
        assert db.session.get(Case, queue["old"].id).assignee_id is None
        html = client.get("/cases/").get_data(as_text=True)
        form = re.search(r'<form id="bulk"[^>]*method="post"[^>]*>\s*(<input[^>]*>)', html)
        assert re.fullmatch(r'<input type="hidden" name="csrf_token" value="[^"]+">', form.group(1))

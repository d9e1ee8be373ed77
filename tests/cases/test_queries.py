"""Reading cases (casemgr.cases.queries): the queue's views, search and counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casemgr import context
from casemgr.cases import queries, queue_order
from casemgr.cases import services as cases
from casemgr.cases.queue_order import QueueSort
from casemgr.cases.states import Status
from casemgr.extensions import db


class TestQueue:
    def page(self, user, **filters):
        return queries.queue(
            db.session, queries.QueueFilter(**filters), user_id=user.id, now=context.now()
        )

    def test_views(self, make, analyst, clock):
        mine = make.case("triage", by=analyst, at=clock.now() - timedelta(days=2))
        fresh = make.report(at=clock.now()).submission.cases[0]
        old = make.case("new", at=clock.now() - timedelta(days=3))
        closed = make.case("closed")
        ids = lambda page: [c.id for c in page.items]  # noqa: E731
        assert ids(self.page(analyst, view="mine")) == [mine.id]
        assert set(ids(self.page(analyst, view="unassigned"))) == {fresh.id, old.id}
        assert set(ids(self.page(analyst, view="overdue"))) == {mine.id, old.id}
        assert closed.id not in ids(self.page(analyst, view="open"))
        assert closed.id in ids(self.page(analyst, view="all"))

    def test_newest_first_and_paginated(self, make, analyst, clock):
        made = [
            make.report(at=clock.now() - timedelta(hours=h)).submission.cases[0] for h in range(5)
        ]
        page = queries.queue(
            db.session,
            queries.QueueFilter(),
            user_id=analyst.id,
            now=clock.now(),
            page=2,
            per_page=2,
        )
        assert (page.total, page.pages) == (5, 3)
        assert [c.id for c in page.items] == [made[2].id, made[3].id]

    @pytest.mark.parametrize(
        "query",
        [
            "CM-2026-000001",
            "cm-2026-000001",
            "http://a.example.com/x",
            "A.EXAMPLE.COM/x",
            "a.example.com",
            "CM-S-2026-000001",
        ],
    )
    def test_search(self, make, analyst, query):
        target = make.report("http://a.example.com/x").submission.cases[0]
        make.report("http://b.example.com/x")
        assert [c.id for c in self.page(analyst, q=query).items] == [target.id]

    def test_filters(self, make, analyst):
        case = make.case("action_required", by=analyst)
        make.case("triage", by=analyst)
        found = self.page(
            analyst,
            status="action_required",
            classification="illegal_baseline",
            hosting_country="KH",
        )
        assert [c.id for c in found.items] == [case.id]

    def test_a_closed_state_in_an_open_view_finds_nothing(self, make, analyst):
        make.case("closed")
        page = self.page(analyst, view="open", status="closed")
        assert (page.items, page.total) == ([], 0)
        assert self.page(analyst, view="all", status="closed").total == 1

    def test_a_host_finds_every_case_on_it_its_root_url_too(self, make, analyst):
        root = make.report("http://a.example.com/").submission.cases[0]
        deeper = make.report("http://a.example.com/x").submission.cases[0]
        make.report("http://b.example.com/")
        found = self.page(analyst, q="a.example.com").items
        assert sorted(c.id for c in found) == [root.id, deeper.id]

    def test_text_that_is_no_reference_url_or_host_finds_nothing(self, make, analyst):
        make.case("new")
        assert self.page(analyst, q="nothing like it").items == []


class TestQueueCounts:
    """Lists are counted up to EXACT_COUNT_LIMIT; PostgreSQL estimates longer ones."""

    @pytest.fixture(autouse=True)
    def small_limit(self, monkeypatch):
        monkeypatch.setattr(queries, "EXACT_COUNT_LIMIT", 2)

    def page(self, user, *, page=1, per_page=3, **filters):
        return queries.queue(
            db.session,
            queries.QueueFilter(**filters),
            user_id=user.id,
            now=context.now(),
            page=page,
            per_page=per_page,
        )

    def test_up_to_the_limit_the_total_is_exact(self, make, analyst):
        for _ in range(2):
            make.case("closed")
        page = self.page(analyst, view="all")
        assert (page.total, page.total_is_estimate, page.has_next) == (2, False, False)

    def test_a_longer_list_is_estimated_on_postgresql_counted_on_sqlite(
        self, make, analyst, backend
    ):
        for _ in range(4):
            make.case("closed")
        first, second = self.page(analyst, view="all"), self.page(analyst, view="all", page=2)
        assert [len(first.items), len(second.items)] == [3, 1]
        if backend == "postgresql":
            assert first.total_is_estimate and first.total >= 3
            assert first.has_next and not second.has_next  # full page: maybe more; short: the end
        else:
            assert (first.total, first.total_is_estimate) == (4, False)
            assert first.has_next and not second.has_next

    def test_a_state_in_the_open_view_counts_that_state_only(self, make, analyst):
        make.case("triage", by=analyst)
        for _ in range(2):
            make.case("new")
        page = self.page(analyst, view="open", status="triage")
        assert (page.total, len(page.items)) == (1, 1)

    def test_the_open_backlog_is_always_counted_exactly(self, make, analyst):
        for state in ("new", "triage", "notice_sent", "with_police"):
            make.case(state, by=analyst)
        make.case("closed")
        page = self.page(analyst, view="open")
        assert (page.total, page.total_is_estimate) == (4, False)


# --- orders, neighbours, matching ids

ORDERS = [
    QueueSort(key, descending)
    for key in ("received", "due", "state", "host")
    for descending in (False, True)
]
NEWEST = lambda case: (-case.received_at.timestamp(), -case.id)  # noqa: E731


def expected_order(cases, sort):
    """The order the queue promises, worked out in Python: the column, then newest first."""
    if sort.key == "received":
        return sorted(cases, key=lambda c: (c.received_at, c.id), reverse=sort.descending)
    if sort.key == "state":
        rank = {state: i for i, state in enumerate(Status)}
        ranked = sorted(cases, key=NEWEST)
        return sorted(ranked, key=lambda c: rank[c.status], reverse=sort.descending)
    if sort.key == "host":
        return sorted(sorted(cases, key=NEWEST), key=lambda c: c.host, reverse=sort.descending)
    dated = sorted((c for c in cases if c.due_at), key=NEWEST)
    dated = sorted(dated, key=lambda c: c.due_at, reverse=sort.descending)
    return dated + sorted((c for c in cases if not c.due_at), key=NEWEST)


@pytest.fixture
def mixed(make, analyst, clock):
    """Cases in several states, hosts, dates and deadlines (some none), two at the same moment."""
    now = clock.now()
    made = [
        make.case("new", url="http://b.example.com/1", at=now - timedelta(days=5)),
        make.case("triage", by=analyst, url="http://a.example.com/1", at=now - timedelta(days=4)),
        make.case(
            "action_required", by=analyst, url="http://c.example.com/", at=now - timedelta(days=3)
        ),
        make.case(
            "notice_sent", by=analyst, url="http://a.example.com/2", at=now - timedelta(days=2)
        ),
        make.case("closed", by=analyst, url="http://d.example.com/", at=now - timedelta(days=6)),
    ]
    twins = make.report(
        "http://b.example.com/2", "http://c.example.com/x", at=now - timedelta(days=1)
    )
    return made + list(twins.submission.cases)


class TestOrders:
    def page(self, user, sort, *, page=1, per_page=50, **filters):
        return queries.queue(
            db.session,
            queries.QueueFilter(**filters),
            user_id=user.id,
            now=context.now(),
            page=page,
            per_page=per_page,
            sort=sort,
        )

    @pytest.mark.parametrize("view", ["open", "all"])
    def test_each_column_either_way(self, mixed, analyst, view):
        shown = [c for c in mixed if view == "all" or c.status != "closed"]
        for sort in ORDERS:
            page = self.page(analyst, sort, view=view)
            expected = expected_order(shown, sort)
            assert [c.reference for c in page.items] == [c.reference for c in expected], sort

    def test_pages_follow_on(self, mixed, analyst):
        for sort in ORDERS:
            pages = [
                self.page(analyst, sort, view="all", page=n, per_page=2).items for n in (1, 2, 3, 4)
            ]
            expected = expected_order(mixed, sort)
            assert [c.id for page in pages for c in page] == [c.id for c in expected], sort

    def test_the_overdue_view_opens_most_overdue_first(self, mixed, analyst):
        sort = queue_order.default_sort("overdue")
        page = self.page(analyst, sort, view="overdue")
        dues = [c.due_at for c in page.items]
        assert len(dues) >= 2 and dues == sorted(dues)

    def test_a_state_filter_sorted_by_state_is_that_state_newest_first(self, mixed, analyst):
        page = self.page(analyst, QueueSort("state", False), view="open", status="new")
        new = sorted((c for c in mixed if c.status == "new"), key=NEWEST)
        assert [c.id for c in page.items] == [c.id for c in new] and len(new) == 3


class TestNeighbours:
    def around(self, user, case, sort, **filters):
        return queries.neighbours(
            db.session,
            case,
            queries.QueueFilter(**filters),
            sort,
            user_id=user.id,
            now=context.now(),
        )

    @pytest.mark.parametrize("view", ["open", "all"])
    def test_each_case_between_the_ones_the_page_shows_around_it(self, mixed, analyst, view):
        shown = [c for c in mixed if view == "all" or c.status != "closed"]
        for sort in ORDERS:
            order = expected_order(shown, sort)
            for i, case in enumerate(order):
                found = self.around(analyst, case, sort, view=view)
                before = order[i - 1].id if i else None
                after = order[i + 1].id if i + 1 < len(order) else None
                assert (found.previous_id, found.next_id) == (before, after), (sort, i)

    @pytest.mark.parametrize("sort", ORDERS, ids=lambda s: s.arg)
    def test_a_case_that_left_the_queue_keeps_its_place(self, mixed, analyst, sort):
        """Taken from "Unassigned", a case's next case is the one after its old place."""
        unassigned = [c for c in mixed if c.assignee_id is None and c.status != "closed"]
        order = expected_order(unassigned, sort)
        middle = order[1]
        cases.apply_action(
            db.session,
            middle,
            "assign",
            {},
            actor=analyst.actor,
            now=context.now(),
            timings=context.timings(),
        )
        db.session.commit()
        found = self.around(analyst, middle, sort, view="unassigned")
        if sort.key in ("state", "due"):  # its state or deadline changed: its place did too
            assert middle.id not in (found.previous_id, found.next_id)
        else:
            assert (found.previous_id, found.next_id) == (order[0].id, order[2].id)

    def test_a_case_of_another_state_than_the_filter_finds_the_states_around_it(
        self, mixed, analyst
    ):
        notice_sent = next(c for c in mixed if c.status == "notice_sent")
        found = self.around(
            analyst, notice_sent, QueueSort("state", False), view="open", status="new"
        )
        assert (found.previous_id, found.next_id) != (None, None)
        new_ids = {c.id for c in mixed if c.status == "new"}
        assert found.previous_id in new_ids and found.next_id is None

    def test_the_only_case_has_no_neighbours(self, make, analyst):
        case = make.case("new")
        assert self.around(analyst, case, queries.NEWEST_FIRST, view="open") == queries.Neighbours(
            None, None
        )


class TestMatchingIds:
    def test_the_filters_cases_newest_first_up_to_the_limit(self, mixed, analyst):
        def ids(**filters):
            return queries.matching_ids(
                db.session,
                queries.QueueFilter(**filters),
                user_id=analyst.id,
                now=context.now(),
                limit=filters.pop("limit", 50) if "limit" in filters else 50,
            )

        hosted_on_a = [c.id for c in sorted(mixed, key=NEWEST) if c.host == "a.example.com"]
        assert ids(view="open", host="a.example.com") == hosted_on_a
        newest = [c.id for c in sorted(mixed, key=NEWEST) if c.status != "closed"]
        assert (
            queries.matching_ids(
                db.session,
                queries.QueueFilter(view="open"),
                user_id=analyst.id,
                now=context.now(),
                limit=3,
            )
            == newest[:3]
        )
        submission = mixed[-1].submission_id
        assert set(ids(view="all", submission_id=submission)) == {mixed[-1].id, mixed[-2].id}

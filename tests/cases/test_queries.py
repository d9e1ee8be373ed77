"""Reading cases (casemgr.cases.queries): the queue's views, search and counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casemgr import context
from casemgr.cases import queries
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

"""The queue grouped by host or by submission (casemgr.cases.grouping)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casemgr import context
from casemgr.cases import grouping, queries
from casemgr.cases.queue_order import QueueSort
from casemgr.extensions import db


def grouped(user, group="host", *, sort=None, page=1, per_page=50, **filters):
    filters.setdefault("view", "open")
    return grouping.grouped(
        db.session,
        queries.QueueFilter(**filters),
        group,
        user_id=user.id,
        now=context.now(),
        sort=sort or grouping.default_group_sort(filters["view"]),
        page=page,
        per_page=per_page,
    )


@pytest.fixture
def sites(make, analyst, clock):
    """big.example.com: 3 open cases (one overdue) and 1 closed; small.example.com: 1 open."""
    now = clock.now()
    big = make.report(
        "http://big.example.com/1", "http://big.example.com/2", at=now - timedelta(hours=2)
    ).submission
    late = make.case("new", url="http://big.example.com/3", at=now - timedelta(days=3))
    make.case("closed", url="http://big.example.com/4", at=now - timedelta(days=9))
    small = make.case(
        "triage", by=analyst, url="http://small.example.com/", at=now - timedelta(hours=1)
    )
    return {"big": big, "late": late, "small": small}


class TestByHost:
    def test_one_row_per_host_with_its_count_oldest_and_most_overdue(self, sites, analyst):
        found = grouped(analyst)
        assert [(g.label, g.count) for g in found.groups.items] == [
            ("big.example.com", 3),
            ("small.example.com", 1),
        ]
        big = found.groups.items[0]
        assert big.oldest_received_at == sites["late"].received_at
        assert big.earliest_due_at == sites["late"].due_at and big.is_overdue(context.now())
        assert (found.groups.total, found.cases) == (2, 4)

    def test_the_closed_case_counts_in_the_all_view(self, sites, analyst):
        found = grouped(analyst, view="all")
        assert [(g.label, g.count) for g in found.groups.items][0] == ("big.example.com", 4)

    @pytest.mark.parametrize(
        ("sort", "first"),
        [
            (QueueSort("count", True), "big.example.com"),
            (QueueSort("count", False), "small.example.com"),
            (QueueSort("host", True), "small.example.com"),
            (QueueSort("host", False), "big.example.com"),
            (QueueSort("received", False), "big.example.com"),
            (QueueSort("received", True), "small.example.com"),
            (QueueSort("due", False), "big.example.com"),
        ],
        ids=lambda value: getattr(value, "arg", value),
    )
    def test_orders(self, sites, analyst, sort, first):
        assert grouped(analyst, sort=sort).groups.items[0].label == first

    def test_the_overdue_view_groups_the_overdue_cases_only(self, sites, analyst):
        found = grouped(analyst, view="overdue")
        assert [(g.label, g.count) for g in found.groups.items] == [("big.example.com", 1)]
        assert found.groups.items[0].earliest_due_at == sites["late"].due_at

    def test_filters_apply_before_grouping(self, sites, analyst):
        found = grouped(analyst, view="unassigned")
        assert [(g.label, g.count) for g in found.groups.items] == [("big.example.com", 3)]
        assert grouped(analyst, status="triage").groups.items[0].label == "small.example.com"

    def test_pages_and_a_page_past_the_end_still_count(self, sites, analyst):
        second = grouped(analyst, page=2, per_page=1)
        assert [g.label for g in second.groups.items] == ["small.example.com"]
        past = grouped(analyst, page=5, per_page=1)
        assert (past.groups.items, past.groups.total, past.cases) == ([], 2, 4)

    def test_nothing_to_group(self, analyst):
        found = grouped(analyst)
        assert (found.groups.items, found.groups.total, found.cases) == ([], 0, 0)


def test_by_submission_the_urls_reported_together(sites, analyst):
    found = grouped(analyst, "submission")
    first = found.groups.items[0]
    assert (first.label, first.count, first.key) == (
        sites["big"].reference,
        2,
        str(sites["big"].id),
    )
    assert (found.groups.total, found.cases) == (3, 4)


def test_unknown_grouping_or_order_is_a_programming_error(analyst):
    with pytest.raises(ValueError):
        grouped(analyst, "country")
    with pytest.raises(ValueError):
        grouped(analyst, sort=QueueSort("state", False))

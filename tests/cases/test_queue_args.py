"""The queue's address (casemgr.cases.queue_args): filters, order, grouping, page."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from casemgr import create_app
from casemgr.cases import queue_args
from casemgr.cases.queue_order import QueueSort


@pytest.fixture(scope="module", autouse=True)
def request_context():
    """Parsing needs no database; its messages need an app (they are translated)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context():
        yield


def parse(query: str):
    from urllib.parse import parse_qsl

    return queue_args.parse(MultiDict(parse_qsl(query)))


def test_the_defaults_open_view_newest_first():
    args = parse("")
    assert (args.filters.view, args.sort, args.group, args.page) == (
        "open",
        QueueSort("received", True),
        None,
        1,
    )
    assert (args.sort_given, args.problems, args.query()) == (False, {}, {"view": "open"})


def test_the_overdue_view_opens_most_overdue_first_and_groups_biggest_first():
    assert parse("view=overdue").sort == QueueSort("due", False)
    assert parse("group=host").sort == QueueSort("count", True)
    assert parse("group=host&view=overdue").sort == QueueSort("due", False)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=due", QueueSort("due", False)),
        ("sort=-due", QueueSort("due", True)),
        ("sort=due&dir=desc", QueueSort("due", True)),
        ("sort=-due&dir=asc", QueueSort("due", False)),
        ("sort=state", QueueSort("state", False)),
        ("sort=host&dir=asc", QueueSort("host", False)),
        ("sort=-received", QueueSort("received", True)),
        ("group=host&sort=-count", QueueSort("count", True)),
        ("group=submission&sort=host", QueueSort("host", False)),
    ],
)
def test_sort_either_way(query, expected):
    args = parse(query)
    assert (args.sort, args.sort_given, args.problems) == (expected, True, {})


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("sort=colour", "sort"),
        ("sort=-", "sort"),
        ("sort=count", "sort"),  # cases have no count
        ("group=host&sort=state", "sort"),  # groups have no state
        ("sort=due&dir=sideways", "dir"),
        ("dir=asc", "dir"),
        ("group=country", "group"),
        ("group=%00", "group"),
        ("host=not%20a%20host", "host"),
        ("host=" + "h" * 300, "host"),
        ("submission=abc", "submission"),
        ("submission=99999999999999", "submission"),
    ],
)
def test_a_bad_order_or_grouping_is_named_and_the_default_order_used(query, parameter):
    args = parse(query)
    assert list(args.problems) == [parameter]
    assert args.problems[parameter].startswith(parameter + ":")
    assert not args.sort_given or parameter != "sort"


def test_the_address_round_trips():
    args = parse(
        "view=all&q=example.com&status=triage&classification=illegal_baseline"
        "&hosting_country=kh&host=A.Example.com&submission=7&group=host&sort=-count&page=3"
    )
    assert args.filters.hosting_country == "KH" and args.filters.host == "a.example.com"
    again = parse(args.encoded())
    assert (again.filters, again.sort, again.group, again.page) == (
        args.filters,
        args.sort,
        args.group,
        args.page,
    )


def test_a_column_head_sorts_its_way_first_then_the_other_way():
    args = parse("page=4")
    assert args.sort_link("due")["sort"] == "due"  # soonest first
    assert args.sort_link("received")["sort"] == "received"  # already newest first: flip
    assert "page" not in args.sort_link("due")
    assert parse("sort=due").sort_link("due")["sort"] == "-due"
    assert parse("sort=due").sorted_by("due") == "ascending"
    assert parse("sort=due").sorted_by("host") is None


def test_the_filter_form_keeps_an_order_both_cases_and_groups_have():
    assert parse("sort=-due").kept_sort == "-due"
    assert parse("sort=state").kept_sort is None
    assert parse("group=host&sort=count").kept_sort is None
    assert parse("").kept_sort is None


@pytest.mark.parametrize("value", [None, "", "sort=nonsense", "q=" + "x" * 3000])
def test_from_without_a_queue_it_can_follow(value):
    assert queue_args.parse_from(value) is None


def test_from_a_queue():
    args = queue_args.parse_from("view=mine&sort=-due&page=2")
    assert (args.filters.view, args.sort, args.page) == ("mine", QueueSort("due", True), 2)

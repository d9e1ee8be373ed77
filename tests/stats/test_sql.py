"""The SQL helpers of casemgr/stats/sql.py: percentiles by both methods, whole seconds."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

import pytest
from sqlalchemy import Integer, literal, select, union_all

from casemgr.database import UTCDateTime
from casemgr.extensions import db
from casemgr.stats.sql import Summary, bucket_index, interpolate, percentiles, seconds_between


def reference_percentile(values: list[int], p: int) -> float:
    """Linear interpolation written out the textbook way, for comparison."""
    ordered = sorted(values)
    h = (len(ordered) - 1) * p / 100
    low = int(h)
    if low + 1 >= len(ordered):
        return float(ordered[low])
    return ordered[low] + (h - low) * (ordered[low + 1] - ordered[low])


@pytest.mark.parametrize(
    "values",
    [[5], [5, 7], [1, 2, 3, 4], [10, 10, 10], [3, 1, 2, 9, 7, 7, 100, 0, 4, 4, 5]],
)
def test_interpolate_matches_the_definition(values):
    ordered = sorted(values)
    n = len(ordered)
    by_rank = {i + 1: v for i, v in enumerate(ordered)}
    for p in (50, 90):
        assert interpolate(by_rank, n, p) == pytest.approx(reference_percentile(values, p))
    assert interpolate(by_rank, n, 50) == statistics.median(values)


@pytest.mark.parametrize("method", ["window", "ordered_set"])
@pytest.mark.parametrize(
    "values", [[7], [2, 4], [0, 86400, 172800, 604800], list(range(0, 37, 3)) + [36, 36]]
)
def test_percentiles_in_the_database(app, backend, method, values):
    if method == "ordered_set" and backend != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    rows = union_all(*(select(literal(v).label("v")) for v in values))
    found = percentiles(db.session, rows, ["v"], method=method)
    summary = found[None]["v"]
    assert summary.count == len(values)
    assert summary.median == round(reference_percentile(values, 50), 2)
    assert summary.p90 == round(reference_percentile(values, 90), 2)


@pytest.mark.parametrize("method", ["window", "ordered_set"])
def test_grouped_percentiles_leave_out_groups_without_values(app, backend, method):
    if method == "ordered_set" and backend != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    rows = union_all(
        *(
            select(
                literal(g).label("g"),
                literal(a, Integer).label("a"),
                literal(b, Integer).label("b"),
            )
            for g, a, b in [(1, 10, None), (1, 20, None), (2, None, None), (3, 5, 7)]
        )
    )
    found = percentiles(db.session, rows, ["a", "b"], grouped=True, method=method)
    assert found == {
        1: {"a": Summary(2, 15.0, 19.0)},
        3: {"a": Summary(1, 5.0, 5.0), "b": Summary(1, 7.0, 7.0)},
    }


def test_percentiles_without_values(app):
    rows = select(literal(1).label("v")).where(literal(1) == 0)
    assert percentiles(db.session, rows, ["v"]) == {}


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("09:00:00.900000", "09:00:01.100000", 1),  # 0.2 s apart, across a second
        ("09:00:00.100000", "09:00:00.900000", 0),  # within one second
        ("09:00:00", "10:00:00", 3600),
        ("09:00:01", "09:00:00.999999", -1),  # backwards
    ],
)
def test_seconds_between_cuts_each_time_to_its_second(app, start, end, expected):
    """The same whole seconds on both backends, whatever the microseconds."""

    def moment(clock: str):
        at = datetime.fromisoformat(f"2026-11-28T{clock}").replace(tzinfo=UTC)
        return literal(at, UTCDateTime())

    value = db.session.scalar(select(seconds_between(moment(end), moment(start))))
    assert value == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(-5, 0), (0, 0), (86400, 0), (86401, 1), (259200, 1), (259201, 2), (604800, 2), (604801, 3)],
)
def test_bucket_index_is_the_first_upper_bound_the_value_is_within(app, seconds, expected):
    """The same bucket on both backends (width_bucket on PostgreSQL, a CASE on SQLite),
    for a whole number of seconds as seconds_between gives it."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    end = datetime.fromtimestamp(start.timestamp() + seconds, UTC)
    value = seconds_between(literal(end, UTCDateTime()), literal(start, UTCDateTime()))
    assert db.session.scalar(select(bucket_index(value, 86400, 259200, 604800))) == expected

"""Periods, percentiles and the SVG chart helper, without the database where possible."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Integer, literal, select, union_all

from casemgr.database import UTCDateTime
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.stats.charts import bar_chart, nice_ticks, shorten
from casemgr.stats.services import Period, default_period, parse_month, parse_period
from casemgr.stats.sql import Summary, interpolate, percentiles, seconds_between

TODAY = date(2026, 11, 28)


def test_period_months_and_labels():
    assert Period.month(2026, 12) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert Period.month(2024, 2).days == 29
    assert Period.month(2026, 10).label == "October 2026"
    assert Period(date(2026, 1, 5), date(2026, 2, 1)).label == "2026-01-05 to 2026-02-01"
    assert Period(date(2025, 11, 15), date(2026, 2, 1)).months(TODAY) == [
        "2025-11", "2025-12", "2026-01", "2026-02",
    ]  # fmt: skip
    assert default_period(TODAY) == Period(date(2025, 12, 1), TODAY)
    assert default_period(date(2026, 12, 31)).start == date(2026, 1, 1)


def test_parse_period_defaults():
    assert parse_period(None, None, today=TODAY) == Period(date(2025, 12, 1), TODAY)
    assert parse_period("2026-03-01", "", today=TODAY) == Period(date(2026, 3, 1), TODAY)
    assert parse_period(None, "2026-01-15", today=TODAY) == Period(
        date(2025, 2, 1), date(2026, 1, 15)
    )


def test_parse_period_reports_every_bad_parameter():
    with pytest.raises(ValidationFailed) as caught:
        parse_period("2026-12-30", "2026-02-30", today=TODAY)
    assert set(caught.value.fields) == {"from", "to"}
    with pytest.raises(ValidationFailed) as caught:
        parse_period(None, None, today=TODAY, required=True)
    assert caught.value.fields == {
        "from": ["is required (YYYY-MM-DD)"],
        "to": ["is required (YYYY-MM-DD)"],
    }
    for text in ("2026-1-01", "20261001", "2026-10-01T00:00", " "):
        with pytest.raises(ValidationFailed):
            parse_period(text, None, today=TODAY, required=True)


def test_parse_month():
    assert parse_month("2026-11", today=TODAY) == Period.month(2026, 11)
    assert parse_month(" 2026-02 ", today=TODAY) == Period.month(2026, 2)
    for text in ("2026-00", "2026-13", "0000-01", "2026-1", "26-01", None):
        with pytest.raises(ValidationFailed) as caught:
            parse_month(text, today=TODAY, name="--month")
        assert list(caught.value.fields) == ["--month"]


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


def test_nice_ticks():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(1) == [0, 1]
    assert nice_ticks(4) == [0, 1, 2, 3, 4]
    assert nice_ticks(26) == [0, 10, 20, 30]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]


def test_bar_chart_escapes_labels():
    svg = str(bar_chart([("<script>x</script>", 3)], title="A & B", chart_id="c", horizontal=True))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "A &amp; B" in svg
    assert svg.startswith("<svg") and 'role="img"' in svg


def test_bar_chart_empty_has_a_message():
    svg = str(bar_chart([("a", 0), ("b", 0)], title="t", chart_id="c", empty_message="Nothing"))
    assert "Nothing" in svg and "<rect" in svg
    svg = str(bar_chart([], title="t", chart_id="c", horizontal=True, empty_message="None here"))
    assert "None here" in svg


def test_bar_chart_draws_one_bar_each():
    svg = str(bar_chart([(str(d), d % 3) for d in range(31)], title="t", chart_id="c"))
    assert svg.count("<rect") == 31


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


def test_shorten_never_cuts_inside_a_khmer_cluster():
    assert shorten("Beta Cloud", 22) == "Beta Cloud"
    assert shorten("Example Hosting Company Ltd", 10) == "Example H…"
    # "ក្រុមហ៊ុនបង្ហោះ": a cut may not end on a coeng (U+17D2) nor leave a
    # vowel sign without its consonant; it moves back to the start of the cluster
    name = "ក្រុមហ៊ុនបង្ហោះ"
    for limit in range(5, len(name)):
        kept = shorten(name, limit).removesuffix("…")
        assert 0 < len(kept) < limit
        assert not kept.endswith("\u17d2")
        assert name[len(kept)] not in "\u17d2\u17bb\u17ca\u17c4\u17c7"
    assert shorten(name, 3) == "ក្រុ…"  # the first cluster is kept whole

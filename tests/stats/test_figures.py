"""Every figure checked against values worked out by hand from tests/stats/conftest.py.

Runs on SQLite and PostgreSQL alike: the same expected numbers on both is the
proof that durations and percentiles are computed the same way.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from casemgr.extensions import db
from casemgr.stats.exports import figures_csv
from casemgr.stats.figures import compute_figures
from casemgr.stats.figures_json import figures_as_dict
from casemgr.stats.selection import Period, StatsFilter
from casemgr.stats.sql import Summary
from tests.conftest import NOW

OCTOBER = Period.month(2026, 10)
NOVEMBER = Period.month(2026, 11)


def figures_for(period, filters=None, **kwargs):
    return compute_figures(db.session, period, filters, now=NOW, **kwargs)


def test_october_counts(data):
    f = figures_for(OCTOBER)
    assert f.urls_reported == 10  # c1-c9, c11 (c9 arrived in the last second)
    assert f.reports_received == 9  # c6 and c7 came in one submission
    assert f.unique_urls == 9  # c6 is c3's URL again
    assert f.assessed == 6  # c1 c2 c3 c4 c5 c8
    assert f.illegal == 5  # c1 c2 c3 c4 c8
    assert f.closed_without_action == 3  # c5 not illegal, c6 duplicate, c11 unavailable
    assert f.by_classification == [
        ("illegal_baseline", 4),
        ("illegal_national", 1),
        ("not_illegal", 1),
        ("out_of_remit", 0),
        (None, 4),
    ]
    assert f.by_resolution == [
        ("takedown_confirmed", 3),
        ("not_illegal", 1),
        ("out_of_remit", 0),
        ("duplicate", 1),
        ("content_unavailable", 1),
        (None, 4),
    ]
    assert f.by_site_type == [
        ("website", 1),
        ("image_host", 2),
        ("file_host", 1),
        ("forum", 1),
        ("social", 0),
        ("blog", 0),
        ("other", 0),
        (None, 5),
    ]
    assert f.by_hosting_country == [("KH", 3), ("DE", 2), (None, 5)]
    assert [(p.name, p.count) for p in f.by_provider] == [
        ("Alpha Hosting", 3),
        ("Beta Cloud", 1),
        (None, 6),
    ]
    assert f.by_provider[0].provider_id == data.alpha.id
    assert f.by_month == [("2026-10", 10)]
    days = dict(f.by_day)
    assert len(days) == 31
    assert {d: n for d, n in days.items() if n} == {
        "2026-10-01": 1,
        "2026-10-02": 1,
        "2026-10-03": 1,
        "2026-10-04": 1,
        "2026-10-05": 1,
        "2026-10-06": 2,
        "2026-10-07": 1,
        "2026-10-10": 1,
        "2026-10-31": 1,
    }


def test_october_open_cases(data):
    f = figures_for(OCTOBER)
    assert f.open_total == 4
    assert f.open_by_state == [
        ("new", 1),  # c7
        ("triage", 1),  # c9
        ("action_required", 0),
        ("notice_pending", 0),
        ("notice_sent", 1),  # c3
        ("forwarded", 0),
        ("with_police", 1),  # c4, on hold: no due date
    ]
    assert f.overdue == 3  # c3 c7 c9


def test_october_times(data):
    f = figures_for(OCTOBER)
    # Assessment: 3600, 7200, 7200, 14400, 28800, 36000 s (n = 6).
    # Median h = 2.5: 7200 + .5 * (14400 - 7200); p90 h = 4.5: 28800 + .5 * 7200.
    assert f.times["receipt_to_assessment"] == Summary(6, 10800.0, 32400.0)
    # First action: 10800, 18000, 18000, 32400, 43200 (n = 5; c5, c6, c7, c9, c11 none).
    # Median h = 2: 18000; p90 h = 3.6: 32400 + .6 * 10800.
    assert f.times["receipt_to_first_action"] == Summary(5, 18000.0, 38880.0)
    # Removal: 72000, 100800, 194400. Median 100800; p90 h = 1.8: 100800 + .8 * 93600.
    assert f.times["receipt_to_removal"] == Summary(3, 100800.0, 175680.0)
    # Notice to removal, notices sent in October (c0 c1 c2 c3 c8), removed ones:
    # c8 -3600 counted as 0, c1 86400, c2 172800, c0 604800.
    # Median h = 1.5: 86400 + .5 * 86400; p90 h = 2.7: 172800 + .7 * 432000.
    assert f.times["notice_to_removal"] == Summary(4, 129600.0, 475200.0)


def test_october_removal_after_notice(data):
    f = figures_for(OCTOBER)
    assert f.notified == 5  # c0 (received in September) c1 c2 c3 c8
    assert f.removed_after_notice == 4
    # Every October notice is older than 7 days: all five are measurable.
    assert [(s.days, s.removed, s.measurable) for s in f.removal_within] == [
        (1, 2, 5),  # c8 (before the notice), c1 (exactly 24 h: included)
        (3, 3, 5),  # + c2
        (7, 4, 5),  # + c0 (exactly 7 days)
    ]
    assert f.headline_share.share == pytest.approx(0.6)
    assert f.removal_distribution == [
        ("≤ 1 day", 2),
        ("1–3 days", 1),
        ("3–7 days", 1),
        ("7–14 days", 0),
        ("14–30 days", 0),
        ("> 30 days", 0),
        ("not yet removed", 1),
    ]


def test_notices_younger_than_the_window_are_not_yet_measurable(data):
    # November, as of 11-28 09:00: c10's notice is 2 days old and not removed,
    # c12's is 1 day old and was removed after 12 h.
    f = figures_for(NOVEMBER)
    assert f.notified == 2
    assert [(s.days, s.removed, s.measurable) for s in f.removal_within] == [
        (1, 1, 2),
        (3, 1, 1),  # c10 may still be removed within 3 days: left out
        (7, 1, 1),
    ]
    assert f.headline_share.share == 1.0
    assert f.times["notice_to_removal"] == Summary(1, 43200.0, 43200.0)
    assert f.open_total == 1 and f.overdue == 0  # c10 is due 11-29 09:00


def test_filters(data):
    kh = figures_for(OCTOBER, StatsFilter(hosting_country="KH"))
    assert (kh.urls_reported, kh.notified, kh.removed_after_notice) == (3, 3, 3)  # c1 c2 c8
    assert (kh.reports_received, kh.unique_urls) == (3, 3)
    de = figures_for(OCTOBER, StatsFilter(hosting_country="DE"))
    assert (de.reports_received, de.unique_urls) == (2, 2)  # c3 c4 (c6, c3's URL, has no country)
    assert (de.urls_reported, de.notified) == (2, 2)  # c3 c4; notices c0 c3
    assert de.times["notice_to_removal"] == Summary(1, 604800.0, 604800.0)
    alpha = figures_for(OCTOBER, StatsFilter(provider_id=data.alpha.id))
    assert (alpha.urls_reported, alpha.notified) == (3, 3)
    assert [(p.name, p.count) for p in alpha.by_provider] == [("Alpha Hosting", 3)]
    both = figures_for(OCTOBER, StatsFilter(hosting_country="DE", provider_id=data.alpha.id))
    assert both.urls_reported == 0 and both.empty


def test_period_edges_and_months(data):
    # The first second of October is in, the first second of November is out.
    first_day = figures_for(Period(date(2026, 10, 1), date(2026, 10, 1)))
    assert first_day.urls_reported == 1
    assert figures_for(Period(date(2026, 10, 31), date(2026, 10, 31))).urls_reported == 1
    # Several months; months after today are not listed; long periods have no days.
    f = figures_for(Period(date(2026, 9, 1), date(2026, 12, 31)))
    assert f.by_month == [("2026-09", 1), ("2026-10", 10), ("2026-11", 2)]
    assert f.by_day is None
    assert f.urls_reported == 13


def test_a_period_without_cases_gives_zeros_not_errors(data):
    f = figures_for(Period.month(2025, 1), include_analysts=True)
    assert f.empty
    assert (f.urls_reported, f.reports_received, f.unique_urls, f.notified) == (0, 0, 0, 0)
    assert all(summary == Summary(0, None, None) for summary in f.times.values())
    assert [s.share for s in f.removal_within] == [None, None, None]
    assert f.headline_share.share is None
    assert all(count == 0 for _, count in f.removal_distribution)
    assert f.by_month == [("2025-01", 0)]
    assert len(f.by_day) == 31 and not any(n for _, n in f.by_day)
    assert f.per_analyst == []
    assert f.by_hosting_country == [] and f.by_provider == []
    figures_as_dict(f)  # serialises
    figures_csv(f)


def test_reopened_case_counts_its_latest_assessment(data, app):
    from casemgr import context
    from casemgr.cases import services as cases
    from tests.stats.conftest import at

    c5 = data.cases["c5"]
    timings = context.timings()
    cases.apply_action(
        db.session, c5, "reopen", {"reason": "wrong call"}, actor=data.sam.actor,
        now=at(10, 5, 2), timings=timings,
    )  # fmt: skip
    cases.apply_action(
        db.session, c5, "assess", {"classification": "out_of_remit"}, actor=data.sam.actor,
        now=at(10, 5, 3), timings=timings,
    )  # fmt: skip
    db.session.commit()
    f = figures_for(OCTOBER, include_analysts=True)
    assert f.assessed == 6
    # c5 now took 3 h (10800): 7200, 7200, 10800, 14400, 28800, 36000.
    assert f.times["receipt_to_assessment"] == Summary(6, 12600.0, 32400.0)
    assert [(a.name, a.assessed) for a in f.per_analyst] == [("Ana", 2), ("Bo", 2), ("Sam", 2)]


@pytest.mark.postgres
def test_both_ways_to_percentiles_agree_on_postgresql(data, backend, monkeypatch):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    from casemgr.stats import sql

    ordered = figures_for(OCTOBER, include_analysts=True)
    real = sql.percentiles

    def windowed_percentiles(*args, **kwargs):
        return real(*args, **{**kwargs, "method": "window"})

    monkeypatch.setattr("casemgr.stats.figures.percentiles", windowed_percentiles)
    monkeypatch.setattr("casemgr.stats.analysts.percentiles", windowed_percentiles)
    windowed = figures_for(OCTOBER, include_analysts=True)
    assert windowed.times == ordered.times
    assert windowed.per_analyst == ordered.per_analyst


@pytest.mark.postgres
def test_percentiles_match_postgresql_percentile_cont(data, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    f = figures_for(OCTOBER)
    row = db.session.execute(
        sa.text(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY s)
            FROM (SELECT EXTRACT(EPOCH FROM assessed_at - received_at) AS s FROM cases
                  WHERE received_at >= '2026-10-01' AND received_at < '2026-11-01'
                    AND assessed_at IS NOT NULL) AS d
            """
        )
    ).one()
    assert (f.times["receipt_to_assessment"].median, f.times["receipt_to_assessment"].p90) == (
        pytest.approx(float(row[0])),
        pytest.approx(float(row[1])),
    )

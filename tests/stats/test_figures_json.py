"""The JSON shape of the figures (casemgr/stats/figures_json.py), from tests/stats/conftest.py."""

from __future__ import annotations

from casemgr.stats.figures_json import figures_as_dict
from tests.stats.test_figures import OCTOBER, figures_for


def test_figures_as_dict(data):
    out = figures_as_dict(figures_for(OCTOBER, include_analysts=True))
    assert out["period"] == {"from": "2026-10-01", "to": "2026-10-31"}
    assert out["as_of"] == "2026-11-28T09:00:00+00:00"
    assert out["urls_reported"] == 10
    assert out["times"]["notice_to_removal"] == {
        "count": 4,
        "median_seconds": 129600.0,
        "p90_seconds": 475200.0,
    }
    assert out["notices"]["removed_within"][1] == {
        "days": 3,
        "removed": 3,
        "measurable": 5,
        "share": 0.6,
    }
    assert out["by_hosting_country"] == [
        {"key": "KH", "count": 3},
        {"key": "DE", "count": 2},
        {"key": None, "count": 5},
    ]
    assert out["open"]["overdue"] == 3
    assert out["per_analyst"][0]["name"] == "Ana"
    assert len(out["by_day"]) == 31
    assert "per_analyst" not in figures_as_dict(figures_for(OCTOBER))

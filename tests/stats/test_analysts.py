"""The per-analyst table (casemgr/stats/analysts.py), from tests/stats/conftest.py."""

from __future__ import annotations

from tests.stats.test_figures import OCTOBER, figures_for


def test_per_analyst_only_when_asked(data):
    assert figures_for(OCTOBER).per_analyst is None
    f = figures_for(OCTOBER, include_analysts=True)
    assert [(a.name, a.assessed, a.median_seconds) for a in f.per_analyst] == [
        ("Ana", 3, 7200.0),  # c5 3600, c1 7200, c8 28800
        ("Bo", 2, 25200.0),  # c3 14400, c4 36000
        ("Sam", 1, 7200.0),  # c2: assigned to Ana, assessed by the supervisor
    ]
    assert f.per_analyst[0].user_id == data.ana.id

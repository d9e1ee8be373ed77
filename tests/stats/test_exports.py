"""The CSV of the figures (casemgr/stats/exports.py); the cases CSV is checked through
its view in test_views.py and its audit in test_operations.py."""

from __future__ import annotations

from casemgr.stats.exports import figures_csv
from tests.stats.test_figures import OCTOBER, figures_for


def test_figures_csv(data):
    text = figures_csv(figures_for(OCTOBER))
    lines = text.splitlines()
    assert lines[0] == "figure,value"
    assert "urls_reported,10" in lines
    assert "times.notice_to_removal.median_seconds,129600.0" in lines
    assert "notices.removed_within.3.share,0.6" in lines
    assert "by_hosting_country.KH.count,3" in lines
    assert "by_hosting_country.none.count,5" in lines

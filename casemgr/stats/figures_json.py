"""The figures as plain JSON-ready data: the one shape the API, the CLI and the CSV share.

Its own module because it is a contract: ``GET /api/v1/stats`` serves it as
described in :mod:`casemgr.stats.openapi` (tests check the two agree), and
the CSV of figures (:mod:`casemgr.stats.exports`) names its rows after it.
"""

from __future__ import annotations

from typing import Any

from casemgr.stats.figures import Figures


def figures_as_dict(figures: Figures) -> dict[str, Any]:
    """The figures as plain JSON-ready data (the API's and the CSV's shape).

    Durations are in seconds (floats: percentiles may fall between two
    values); a share is a fraction 0-1, or null when nothing is measurable
    yet. ``per_analyst`` is present only when it was computed.
    """
    out: dict[str, Any] = {
        "period": {"from": figures.period.start.isoformat(), "to": figures.period.end.isoformat()},
        "as_of": figures.as_of.isoformat(),
        "filters": {
            "hosting_country": figures.filters.hosting_country,
            "provider_id": figures.filters.provider_id,
        },
        "reports_received": figures.reports_received,
        "urls_reported": figures.urls_reported,
        "unique_urls": figures.unique_urls,
        "assessed": figures.assessed,
        "illegal": figures.illegal,
        "closed_without_action": figures.closed_without_action,
        "by_classification": [{"key": k, "count": v} for k, v in figures.by_classification],
        "by_resolution": [{"key": k, "count": v} for k, v in figures.by_resolution],
        "by_site_type": [{"key": k, "count": v} for k, v in figures.by_site_type],
        "by_hosting_country": [{"key": k, "count": v} for k, v in figures.by_hosting_country],
        "by_provider": [
            {"provider_id": p.provider_id, "name": p.name, "count": p.count}
            for p in figures.by_provider
        ],
        "by_month": [{"month": m, "count": v} for m, v in figures.by_month],
        "times": {
            key: {
                "count": summary.count,
                "median_seconds": summary.median,
                "p90_seconds": summary.p90,
            }
            for key, summary in figures.times.items()
        },
        "notices": {
            "notified": figures.notified,
            "removed": figures.removed_after_notice,
            "removed_within": [
                {
                    "days": s.days,
                    "removed": s.removed,
                    "measurable": s.measurable,
                    "share": s.share,
                }
                for s in figures.removal_within
            ],
            "time_to_removal": [
                {"bucket": label, "count": count} for label, count in figures.removal_distribution
            ],
        },
        "open": {
            "total": figures.open_total,
            "overdue": figures.overdue,
            "by_state": [{"state": s, "count": v} for s, v in figures.open_by_state],
        },
    }
    if figures.by_day is not None:
        out["by_day"] = [{"day": d, "count": v} for d, v in figures.by_day]
    if figures.per_analyst is not None:
        out["per_analyst"] = [
            {
                "user_id": a.user_id,
                "name": a.name,
                "assessed": a.assessed,
                "median_seconds_to_assessment": a.median_seconds,
            }
            for a in figures.per_analyst
        ]
    return out

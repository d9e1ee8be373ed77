"""The removal checks of cases as the case API shows them, and their JSON Schema.

The cases' API adds ``removal_checks`` (the latest few, newest first) to a
case with :func:`checks_for_cases`; :data:`CHECK_SCHEMA` describes one item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from casemgr.api.schemas import TEXT, TIME, Json, closed_object, enum_of, iso, nullable
from casemgr.checks.models import OUTCOMES, UrlCheck
from casemgr.checks.queries import recent_checks

CHECK_SCHEMA: Json = closed_object(
    {
        "checked_at": TIME,
        "status_code": nullable(
            {
                "type": "integer",
                "minimum": 100,
                "maximum": 999,
                "description": "The last answer's HTTP status; null when there was none",
            }
        ),
        "outcome": {
            **enum_of(OUTCOMES),
            "description": "live (2xx), gone (404/410), unresolvable (no such host), "
            "other (another status), too_many_redirects, error (no usable answer), "
            "refused (not checked: not http(s), or a private address)",
        },
        "final_location": nullable(
            {**TEXT, "description": "Where redirects led; null without a redirect"}
        ),
    },
    description="One HEAD request of the removal check (docs/removal-check.md)",
)

REMOVAL_CHECKS_SCHEMA: Json = {
    "type": "array",
    "items": CHECK_SCHEMA,
    "description": "The latest removal checks of the case, newest first; empty when the "
    "check is off or has not run",
}


def check_as_dict(check: UrlCheck) -> dict[str, Any]:
    return {
        "checked_at": iso(check.checked_at),
        "status_code": check.status_code,
        "outcome": check.outcome,
        "final_location": check.final_location,
    }


def checks_for_cases(
    session: Session, case_ids: Sequence[int], limit: int = 5
) -> dict[int, list[dict[str, Any]]]:
    """The latest ``limit`` checks of each of ``case_ids``, newest first, in one query."""
    return {
        case_id: [check_as_dict(check) for check in checks]
        for case_id, checks in recent_checks(session, case_ids, limit=limit).items()
    }

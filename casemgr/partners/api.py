"""The partner link of a case as the case API shows it (``partner_link``), and its schema.

GET /api/v1/cases/<id> adds ``partner_link`` from :func:`partner_link_for_cases`;
:data:`PARTNER_LINK_SCHEMA` describes it (null when the case was never
forwarded to a partner over its API).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from casemgr.api.schemas import ID, TEXT, TIME, Json, closed_object, enum_of, iso, nullable
from casemgr.cases.states import Resolution, Status
from casemgr.partners.models import STATES
from casemgr.partners.queries import links_for_cases

PARTNER_LINK_SCHEMA: Json = nullable(
    closed_object(
        {
            "partner_id": ID,
            "partner": TEXT,
            "delivery": {
                **enum_of(STATES),
                "description": "queued (waiting for its next attempt), delivered, failed "
                "(given up; supervisors were alerted)",
            },
            "attempts": {"type": "integer", "minimum": 0},
            "last_error": nullable(TEXT),
            "reference": nullable({**TEXT, "description": "The partner's case reference"}),
            "submission": nullable({**TEXT, "description": "The partner's submission reference"}),
            "status": nullable({**enum_of(Status), "description": "The partner's case status"}),
            "resolution": nullable(enum_of(Resolution)),
            "removed_at": nullable(TIME),
            "delivered_at": nullable(TIME),
            "status_learned_at": nullable(
                {**TIME, "description": "When we last learned a change of its status"}
            ),
            "last_polled_at": nullable(TIME),
        },
        description="The case as forwarded to a partner hotline's casemgr over its API "
        "(docs/partners.md)",
    )
)


def _as_dict(link: dict[str, Any]) -> dict[str, Any]:
    times = ("removed_at", "delivered_at", "status_learned_at", "last_polled_at")
    shown = {name: link[name] for name in PARTNER_LINK_SCHEMA["properties"] if name not in times}
    return shown | {name: iso(link[name]) for name in times}


def partner_link_for_cases(session: Session, case_ids: Sequence[int]) -> dict[int, dict | None]:
    """``partner_link`` of each of ``case_ids``: a dict, or None without one."""
    links = links_for_cases(session, case_ids)
    return {case_id: _as_dict(links[case_id]) if case_id in links else None for case_id in case_ids}

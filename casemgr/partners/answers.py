"""Reading a partner's answers: what we take from them, and what makes them lies.

A partner's answer is checked against what we sent before anything is
written: the submission must carry our case reference, its case our URL (on
delivery) or the id and reference we stored (on polling), its status one our
workflow knows. Whatever does not fit raises
:class:`~casemgr.partners.client.PartnerError` ("lies" or "unknown_status").
"""

from __future__ import annotations

from typing import Any

from casemgr.partners.client import PartnerError
from casemgr.partners.models import PartnerLink
from casemgr.partners.services import RESOLUTIONS, STATUSES, parse_time


def _text(value: Any, limit: int = 64) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit


def delivered(body: dict[str, Any], *, reference: str, url: str) -> dict[str, Any]:
    """Submission reference, case id and reference, status from POST /reports."""
    submission = body.get("submission")
    cases = body.get("cases")
    if not isinstance(submission, dict) or not isinstance(cases, list):
        raise PartnerError("lies", "the answer to our report has no submission and cases")
    if submission.get("external_reference") != reference or not _text(submission.get("reference")):
        raise PartnerError("lies", f"the submission it answered is not the one for {reference}")
    ours = [c for c in cases if isinstance(c, dict) and c.get("url") == url]
    if len(ours) != 1:
        raise PartnerError("lies", f"its answer holds no single case for the URL of {reference}")
    case = ours[0]
    if not isinstance(case.get("id"), int) or isinstance(case.get("id"), bool):
        raise PartnerError("lies", "its case has no id")
    if not _text(case.get("reference")):
        raise PartnerError("lies", "its case has no reference")
    if case.get("status") not in STATUSES:
        raise PartnerError("unknown_status", f"status {str(case.get('status'))[:40]!r} is unknown")
    return {
        "submission": submission["reference"],
        "case_id": case["id"],
        "case_reference": case["reference"],
        "status": case["status"],
    }


def polled(
    body: dict[str, Any], *, submission: str, links: list[tuple[PartnerLink, str]]
) -> dict[int, dict[str, Any]]:
    """For each (link, our case reference), the partner's status of its case
    (link id -> status, resolution, removed_at, closed_at), from
    GET /submissions/<ref>. Raises PartnerError when any of it does not fit:
    one lie spoils the whole answer."""
    if body.get("reference") != submission:
        raise PartnerError("lies", f"asked for submission {submission}, it answered another")
    cases = body.get("cases")
    if not isinstance(cases, list):
        raise PartnerError("lies", f"submission {submission} has no cases")
    by_id = {c.get("id"): c for c in cases if isinstance(c, dict)}
    found: dict[int, dict[str, Any]] = {}
    for link, reference in links:
        if body.get("external_reference") != reference:
            raise PartnerError("lies", f"submission {submission} is not the one for {reference}")
        case = by_id.get(link.remote_case_id)
        if case is None or case.get("reference") != link.remote_case_reference:
            raise PartnerError(
                "lies",
                f"submission {submission} does not hold its case {link.remote_case_reference}",
            )
        status, resolution = case.get("status"), case.get("resolution")
        if status not in STATUSES or (resolution is not None and resolution not in RESOLUTIONS):
            raise PartnerError(
                "unknown_status",
                f"case {link.remote_case_reference}: status {str(status)[:40]!r}, "
                f"resolution {str(resolution)[:40]!r} unknown to our workflow",
            )
        try:
            removed_at = parse_time(case.get("removed_at"))
            closed_at = parse_time(case.get("closed_at"))
        except ValueError as exc:
            raise PartnerError("lies", f"case {link.remote_case_reference}: {exc}"[:200]) from None
        found[link.id] = {
            "status": status,
            "resolution": resolution,
            "removed_at": removed_at,
            "closed_at": closed_at,
        }
    return found

"""Provider replies in the case API: the data and its JSON schema.

``GET /api/v1/cases/<id>`` shows them as ``provider_replies`` (wired in
``casemgr/cases/api.py``): what came by e-mail about the case, newest last,
with the text kept and the attachments that were dropped unread.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.inbound.models import KINDS, InboundMail, InboundMailCase

# Characters of a reply's text in the API (the page shows the whole text kept).
API_TEXT_LIMIT = 16 * 1024

ATTACHMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An attachment dropped unread: never its bytes.",
    "required": ["name", "type", "size", "sha256"],
    "properties": {
        "name": {"type": "string"},
        "type": {"type": "string", "description": "Its declared MIME type."},
        "size": {"type": "integer", "minimum": 0},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
    "additionalProperties": False,
}

REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An e-mail from the provider (or a bounce of our letter) about the case.",
    "required": [
        "id",
        "received_at",
        "from",
        "subject",
        "kind",
        "text",
        "text_truncated",
        "attachments_dropped",
    ],
    "properties": {
        "id": {"type": "integer"},
        "received_at": {"type": "string", "format": "date-time"},
        "from": {"type": "string"},
        "subject": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "text": {"type": "string", "description": "The text kept, capped."},
        "text_truncated": {"type": "boolean"},
        "attachments_dropped": {"type": "array", "items": ATTACHMENT_SCHEMA},
    },
    "additionalProperties": False,
}


def reply_json(mail: InboundMail) -> dict[str, Any]:
    text = mail.text or ""
    return {
        "id": mail.id,
        "received_at": mail.received_at.isoformat(),
        "from": mail.sender,
        "subject": mail.subject,
        "kind": mail.kind,
        "text": text[:API_TEXT_LIMIT],
        "text_truncated": bool(mail.text_truncated or len(text) > API_TEXT_LIMIT),
        "attachments_dropped": [
            {
                "name": str(a.get("name", "")),
                "type": str(a.get("type", "")),
                "size": int(a.get("size", 0)),
                "sha256": str(a.get("sha256", "")),
            }
            for a in (mail.attachments or [])
        ],
    }


def replies_for_cases(session: Session, case_ids: Iterable[int]) -> dict[int, list[dict]]:
    """case id -> its replies (oldest first), for every id given (an empty list for none)."""
    ids = sorted(set(case_ids))
    replies: dict[int, list[dict]] = {case_id: [] for case_id in ids}
    if not ids:
        return replies
    rows = session.execute(
        select(InboundMailCase.case_id, InboundMail)
        .join(InboundMail, InboundMail.id == InboundMailCase.mail_id)
        .where(InboundMailCase.case_id.in_(ids))
        .order_by(InboundMail.received_at, InboundMail.id)
    ).all()
    for case_id, mail in rows:
        replies[case_id].append(reply_json(mail))
    return replies

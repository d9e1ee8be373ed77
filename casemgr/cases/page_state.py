"""What the case page carries across a redirect, in the signed session.

Every form on the case page posts and then redirects back to the page
(post/redirect/get), so that reloading never sends a form again. What the
page must show after the redirect travels in the session:

- a failed action: what was typed and the errors, shown once, on the next
  view of that case's page;
- a trace result: kept for the case that was traced (the latest one only)
  for :data:`TRACE_KEPT`, so that it stays on the page and fills in the
  forms that follow (hosting country, IP, provider) while the analyst works
  the case.

The session is a cookie that holds about 4 KB in all, so what goes in is
bounded: values longer than a budget are dropped with a message asking to
type them again. Action forms never hold the reporter's contact, and
nothing else about the reporter is put here.

``store`` is the session (any mutable mapping in tests).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from casemgr.clock import parse_iso
from casemgr.directory.models import Organisation
from casemgr.directory.tracing import Match, TraceResult

FAILED_KEY = "case_page_failed"
TRACE_KEY = "case_page_trace"
# Characters of typed values kept (JSON-escaped, as the cookie holds them).
MAX_VALUES_CHARS = 1500
MAX_MESSAGES_PER_FIELD = 3
MAX_MESSAGE_CHARS = 300
MAX_ADDRESSES = 8
TRACE_KEPT = timedelta(hours=1)
# Form-level errors (not about one field) are kept under this key.
FORM = ""


@dataclass
class FailedAction:
    case_id: int
    action: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def keep_failed(store: MutableMapping[str, Any], failed: FailedAction) -> None:
    """Remember ``failed`` for the next view of its case page (replacing any other)."""
    values: dict[str, str] = {}
    errors = {
        name: [_bounded(message) for message in messages[:MAX_MESSAGES_PER_FIELD]]
        for name, messages in failed.errors.items()
    }
    room = MAX_VALUES_CHARS
    for name, value in failed.values.items():
        size = len(json.dumps(value))
        if size <= room:
            values[name] = value
            room -= size
        else:
            errors.setdefault(name, []).append(
                _("What you typed here was too long to keep after the error: type it again.")
            )
    store[FAILED_KEY] = {
        "case": failed.case_id,
        "action": failed.action,
        "values": values,
        "errors": errors,
    }


def take_failed(store: MutableMapping[str, Any], case_id: int) -> FailedAction | None:
    """The failed action kept for this case, once: it is gone from the session after."""
    kept = store.pop(FAILED_KEY, None)
    if not isinstance(kept, Mapping) or kept.get("case") != case_id:
        return None
    values, errors = kept.get("values"), kept.get("errors")
    if not isinstance(values, Mapping) or not isinstance(errors, Mapping):
        return None
    return FailedAction(
        case_id,
        str(kept.get("action")),
        {str(k): str(v) for k, v in values.items()},
        {str(k): [str(m) for m in v] for k, v in errors.items() if isinstance(v, list)},
    )


def keep_trace(
    store: MutableMapping[str, Any], case_id: int, result: TraceResult, *, now: datetime
) -> None:
    """Remember ``result`` as the trace of ``case_id`` (the latest trace only)."""
    store[TRACE_KEY] = {
        "case": case_id,
        "at": now.isoformat(),
        "host": result.host,
        "addresses": result.addresses[:MAX_ADDRESSES],
        "more": max(0, len(result.addresses) - MAX_ADDRESSES),
        "error": _bounded(result.error) if result.error else None,
        "by_domain": _match_out(result.by_domain),
        "by_network": _match_out(result.by_network),
        "registrar": _match_out(result.registrar),
    }


@dataclass
class KeptTrace:
    result: TraceResult
    traced_at: datetime
    more_addresses: int = 0


def trace_for(
    store: Mapping[str, Any], session: Session, case_id: int, *, now: datetime
) -> KeptTrace | None:
    """The kept trace of ``case_id``, if it is recent enough; organisations
    that are no longer in the directory drop out of it."""
    kept = store.get(TRACE_KEY)
    if not isinstance(kept, Mapping) or kept.get("case") != case_id:
        return None
    try:
        traced_at = parse_iso(str(kept.get("at")))
    except ValueError:
        return None
    if not (now - TRACE_KEPT <= traced_at <= now):
        return None
    addresses = kept.get("addresses")
    result = TraceResult(
        host=str(kept.get("host", "")),
        addresses=[str(a) for a in addresses] if isinstance(addresses, list) else [],
        error=str(kept["error"]) if kept.get("error") else None,
        by_domain=_match_in(session, kept.get("by_domain")),
        by_network=_match_in(session, kept.get("by_network")),
        registrar=_match_in(session, kept.get("registrar")),
    )
    more = kept.get("more")
    return KeptTrace(result, traced_at, more if isinstance(more, int) else 0)


def _bounded(message: object) -> str:
    text = str(message)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _match_out(match: Match | None) -> list[Any] | None:
    if match is None:
        return None
    return [match.organisation.id, match.by, match.entry, match.address]


def _match_in(session: Session, kept: object) -> Match | None:
    if not isinstance(kept, list) or len(kept) != 4 or not isinstance(kept[0], int):
        return None
    organisation = session.get(Organisation, kept[0]) if 0 < kept[0] < 2**63 else None
    if organisation is None:
        return None
    return Match(organisation, str(kept[1]), str(kept[2]), str(kept[3]) if kept[3] else None)

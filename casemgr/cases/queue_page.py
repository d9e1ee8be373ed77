"""The queue screen, and the case page's place in the queue it was opened from.

What the queue view and the bulk view (which shows the queue again, with its
selection and errors, when a bulk action is refused) render; the case page's
"previous case · next case" and its way back to the same queue page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import render_template, request, session, url_for
from flask_login import current_user

from casemgr import context
from casemgr.cases import bulk_forms, grouping, queries, queue_args
from casemgr.cases import services as cases
from casemgr.cases.fields import Classification
from casemgr.cases.models import Case
from casemgr.cases.queue_args import QueueArgs
from casemgr.cases.states import Action, Status
from casemgr.extensions import db

# The queue a case page belongs to when its address does not say (after an
# action, the page is reached by a redirect): the last queue the user looked at.
LAST_QUEUE = "casemgr.last_queue"


def url_parts(url: str) -> tuple[str, str]:
    """A URL as a compact row shows it: the host, kept whole, and the rest,
    which may be shortened (the row's title and copy button hold it all)."""
    parts = urlsplit(url)
    start = f"{parts.scheme}://{parts.netloc}"
    if not parts.netloc or not url.startswith(start):
        return url, ""
    return parts.netloc, url[len(start) :]


def render_queue(args: QueueArgs, *, status: int = 200, **extra: Any) -> tuple[str, int]:
    """The queue screen for ``args``; ``extra`` goes to the template (the bulk
    form's selection and errors)."""
    now = context.now()
    per_page = context.setting("QUEUE_PAGE_SIZE")
    if not args.problems and session.get(LAST_QUEUE) != args.encoded():
        session[LAST_QUEUE] = args.encoded()
    values: dict[str, Any] = {}
    if args.group:
        found = grouping.grouped(
            db.session,
            args.filters,
            args.group,
            user_id=current_user.id,
            now=now,
            sort=args.sort,
            page=args.page,
            per_page=per_page,
        )
        values |= {"page": found.groups, "total_cases": found.cases, "estimated": False}
    else:
        page = queries.queue(
            db.session,
            args.filters,
            user_id=current_user.id,
            now=now,
            page=args.page,
            per_page=per_page,
            sort=args.sort,
        )
        actor = current_user.actor
        values |= {
            "page": page,
            "total_cases": page.total,
            "estimated": page.total_is_estimate,
            "submissions": queries.submissions_of(
                db.session, {case.submission_id for case in page.items}
            ),
            # "Take" where the workflow lets this user assign an unassigned case.
            "takeable": {
                case.id
                for case in page.items
                if case.assignee_id is None and Action.ASSIGN in cases.allowed_actions(case, actor)
            },
        }
    page_values: dict[str, Any] = {
        "args": args,
        "filters": args.filters,
        "views": queries.QUEUE_VIEWS,
        "groups": grouping.GROUPS,
        "statuses": list(Status),
        "classifications": list(Classification),
        "exact_count_limit": queries.EXACT_COUNT_LIMIT,
        "now": now,
        "url_parts": url_parts,
        "selected": frozenset(),
        "selected_groups": frozenset(),
        "matching": values["total_cases"],
        "bulk": extra.get("bulk") or bulk_forms.bar(db.session),
    }
    return render_template("cases/queue.html", **(page_values | values | extra)), status


@dataclass(frozen=True)
class Position:
    """Where a case stands in the queue it was opened from."""

    previous_id: int | None
    next_id: int | None
    came_from: str  # the queue's address, for ?from= on the neighbours' links
    queue_url: str  # back to that queue, on the same page, at this case's row

    def case_url(self, case_id: int) -> str:
        return url_for("cases.case_page", case_id=case_id, **{"from": self.came_from})


def position(case: Case) -> Position | None:
    """``case``'s neighbours in the queue named by ``?from=`` (else the last
    queue the user looked at); None without a queue to follow."""
    args = queue_args.parse_from(request.args.get("from") or session.get(LAST_QUEUE))
    if args is None or args.group:  # a grouped queue lists groups, not cases
        return None
    found = queries.neighbours(
        db.session,
        case,
        args.filters,
        args.sort,
        user_id=current_user.id,
        now=context.now(),
    )
    return Position(
        previous_id=found.previous_id,
        next_id=found.next_id,
        came_from=args.encoded(),
        queue_url=url_for("cases.queue", **args.query(), _anchor=f"case-{case.id}"),
    )

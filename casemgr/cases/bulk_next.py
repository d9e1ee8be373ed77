"""What the bulk result page offers next on the same selection: the action
that most likely comes next, with the fields the cases already know filled in.

The same choice as the case page's (:mod:`casemgr.cases.next_step` over the
actions the workflow allows, the routing suggestion first), made for the
cases that went through: the actions every one of them allows, and values
(a provider whose domain in the directory covers the host, its country, the
suggested organisation) only when those cases agree on what the values come
from: one state, one host, one hosting country, one provider. Nothing here
changes a case; the analyst still chooses and submits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from casemgr.cases import services as cases
from casemgr.cases import workbench
from casemgr.cases.bulk import BULK_ACTIONS
from casemgr.cases.models import Case
from casemgr.cases.next_step import next_steps
from casemgr.cases.states import Action
from casemgr.domain import Actor


@dataclass(frozen=True)
class BulkNext:
    action: str | None = None  # the bulk action to preselect; None: none
    values: dict[str, str] = field(default_factory=dict)  # the fields' starting values


def next_for(session: Session, done: Sequence[Case], actor: Actor) -> BulkNext:
    """The next action on ``done`` (the cases the last bulk action went through)."""
    if not done:
        return BulkNext()
    allowed_each = [cases.allowed_actions(case, actor) for case in done]
    common = set(allowed_each[0]).intersection(*allowed_each[1:])
    allowed = [action for action in allowed_each[0] if action in common]
    first = done[0]
    alike = all(_situation(case) == _situation(first) for case in done)
    values = workbench.defaults(session, first, None, allowed, {}) if alike else {}
    suggestion = workbench.suggestion(session, first, allowed, values) if alike else None
    steps = next_steps(allowed, suggested=suggestion.action if suggestion else None)
    action = steps.opened
    if action == Action.ASSIGN or action not in BULK_ACTIONS:
        action = None  # who else should have them is not a guess to make
    if suggestion and suggestion.organisation_id and suggestion.field:
        values.setdefault(suggestion.field, str(suggestion.organisation_id))
    return BulkNext(action, values)


def _situation(case: Case) -> tuple:
    return (case.status, case.host, case.hosting_country, case.provider_id, case.assignee_id)

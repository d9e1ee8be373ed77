"""Which action the case page opens first: the one that most likely comes next.

Pure Python over action names. It decides nothing about what may be done:
the workflow does (``allowed_actions``), and so does routing (the suggested
action, itself one of the allowed ones). This only puts the allowed actions
in the order a case usually travels, and says which one to open:

- the action whose submission just failed, so its errors are in view;
- else the routing suggestion;
- else the first allowed step on the way to removal (take, assess, confirm
  the takedown, ...). Side exits (duplicate, unavailable), escalations and
  supervisors' corrections come after and are never opened on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from casemgr.cases.states import Action

# The usual order of work on a case. A state allows only a few of these at a
# time (that is the workflow's business), so what matters is how they rank
# among those allowed together: assess before re-assigning a case one already
# has, confirming a takedown before sending a notice the police may have made
# unnecessary, any step forward before the side exits.
LIKELY_ORDER: tuple[Action, ...] = (
    Action.ASSESS,
    Action.CONFIRM_TAKEDOWN,
    Action.REQUEST_NOTICE,
    Action.FORWARD_TO_PARTNER,
    Action.REFER_TO_POLICE,
    Action.ASSIGN,
    Action.RELEASE_HOLD,
    Action.REOPEN,
    Action.MARK_DUPLICATE,
    Action.CLOSE_UNAVAILABLE,
)

# The steps forward the page may open unasked. Referring to police is one
# only when routing suggests it (otherwise it is an escalation); a side exit
# or a correction is a decision nobody should find pre-opened.
OPENED_UNASKED: frozenset[Action] = frozenset(
    {
        Action.ASSIGN,
        Action.ASSESS,
        Action.REQUEST_NOTICE,
        Action.FORWARD_TO_PARTNER,
        Action.CONFIRM_TAKEDOWN,
    }
)

_RANK = {action.value: position for position, action in enumerate(LIKELY_ORDER)}


@dataclass(frozen=True)
class NextSteps:
    actions: tuple[str, ...]  # the allowed actions, most likely next first
    opened: str | None  # the one to show open; None: all stay closed


def next_steps(
    allowed: Sequence[str], *, suggested: str | None = None, failed: str | None = None
) -> NextSteps:
    """Order ``allowed`` (action names) for the case page and choose the one to open.

    ``suggested``: the routing suggestion's action; ``failed``: the action
    whose submission came back with errors. Either counts only if allowed.
    Actions unknown to :data:`LIKELY_ORDER` keep their given order, last.
    """
    given = {action: position for position, action in enumerate(allowed)}

    def rank(action: str) -> tuple[int, int, int]:
        return (action != suggested, _RANK.get(action, len(_RANK)), given[action])

    ordered = tuple(sorted(given, key=rank))
    if failed is not None and failed in given:
        return NextSteps(ordered, failed)
    first = ordered[0] if ordered else None
    if first is not None and (first == suggested or first in OPENED_UNASKED):
        return NextSteps(ordered, first)
    return NextSteps(ordered, None)

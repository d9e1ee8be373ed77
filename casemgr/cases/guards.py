"""Who among the staff may act on a case, or see what it holds: need-to-know.

Pure Python, like the workflow that uses the first three as its rules'
``actor_guard`` (:mod:`casemgr.cases.workflow`). Each guard answers None
when ``actor`` may, else the refusal, naming who may; the caller raises it as
PermissionDenied. The reporter's contact follows :func:`contact_refusal`, the
one place that rule lives (the case page and ``reveal_contact`` both ask it).
"""

from __future__ import annotations

from collections.abc import Callable

from casemgr.cases.facts import CaseFacts
from casemgr.domain import Actor, Role
from casemgr.settings import ContactViewers


def assignee_or_supervisor(case: CaseFacts, actor: Actor) -> str | None:
    """Assessing: the case's assignee or a supervisor."""
    if actor.has(Role.SUPERVISOR) or case.assignee_id == actor.id:
        return None
    return "only the assignee or a supervisor can assess this case"


def unassigned_or_supervisor(case: CaseFacts, actor: Actor) -> str | None:
    """Assigning: anyone takes a case nobody holds; supervisors reassign."""
    if actor.has(Role.SUPERVISOR) or case.assignee_id in (None, actor.id):
        return None
    return "the case is assigned to a colleague; only a supervisor can reassign it"


def holder_or_supervisor(case: CaseFacts, actor: Actor) -> str | None:
    """Closing without a takedown (duplicate, content unavailable): as assessing,
    the case's assignee or a supervisor.

    A case nobody holds yet (a new report, or one reopened without an assignee)
    may be closed by any analyst: clearing an obvious duplicate or a dead link
    from the queue takes nobody's work away, and the history records who did it.
    Requiring a Take first would only add a click before the same close."""
    if actor.has(Role.SUPERVISOR) or case.assignee_id in (None, actor.id):
        return None
    return "the case is assigned to a colleague; only the assignee or a supervisor can close it"


# Each workflow guard in words, for the API document (casemgr/cases/api.py).
WHO_MAY: dict[Callable[[CaseFacts, Actor], str | None], str] = {
    assignee_or_supervisor: "Only the case's assignee or a supervisor (403 for anyone else).",
    unassigned_or_supervisor: "An analyst takes a case nobody holds; only a supervisor "
    "reassigns a colleague's (403).",
    holder_or_supervisor: "Only the case's assignee or a supervisor; a case nobody holds "
    "yet, any analyst (403 for anyone else).",
}


def contact_refusal(case: CaseFacts, actor: Actor, viewers: ContactViewers) -> str | None:
    """Whether ``actor`` may reveal the reporter's contact details through ``case``.

    ``viewers`` is the ``CONTACT_VIEWERS`` setting. Unlike closing, a case nobody
    holds shows its contact to supervisors only: taking the case comes first."""
    if actor.has(Role.SUPERVISOR):
        return None
    if viewers is ContactViewers.ANALYSTS and actor.has(Role.ANALYST):
        return None
    if viewers is ContactViewers.ASSIGNEE and actor.has(Role.ANALYST):
        if case.assignee_id is not None and case.assignee_id == actor.id:
            return None
        return "only the case's assignee or a supervisor can see the reporter's contact"
    return "only a supervisor can see the reporter's contact"

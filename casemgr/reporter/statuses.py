"""What a reporter is told of a URL they reported: five coarse statuses.

The one place that turns a case's state into what /status and the feedback
e-mail say. The states are read from the workflow's own rules
(casemgr/cases/workflow.py), so a state added there lands somewhere here
or fails tests/reporter/test_statuses.py:

- *received*: nobody has assessed it yet (the states a case can be taken
  from but not yet assessed in);
- *being assessed*: any other open state before the material is handed on;
- *action taken*: it is with someone for removal (a notice queued or sent,
  a partner hotline, the police, with or without a hold);
- *removed*: closed with the takedown confirmed;
- *closed without action*: closed otherwise (not illegal, out of remit,
  gone before anyone acted). A duplicate says what its original says.

Never more: no classification, provider, partner, police hold or name, since
whoever holds the code may not be the reporter.
"""

from __future__ import annotations

from enum import StrEnum

from casemgr.cases.states import OPEN_STATUSES, Action, Resolution, Status
from casemgr.cases.workflow import RULES
from casemgr.domain import N_


class ReporterStatus(StrEnum):
    RECEIVED = "received"
    BEING_ASSESSED = "being_assessed"
    ACTION_TAKEN = "action_taken"
    REMOVED = "removed"
    CLOSED_WITHOUT_ACTION = "closed_without_action"


LABELS: dict[ReporterStatus, str] = {
    ReporterStatus.RECEIVED: N_("Received"),
    ReporterStatus.BEING_ASSESSED: N_("Being assessed"),
    ReporterStatus.ACTION_TAKEN: N_("Action taken"),
    ReporterStatus.REMOVED: N_("Removed"),
    ReporterStatus.CLOSED_WITHOUT_ACTION: N_("Closed without action"),
}

EXPLANATIONS: dict[ReporterStatus, str] = {
    ReporterStatus.RECEIVED: N_("We have your report. An analyst will look at it soon."),
    ReporterStatus.BEING_ASSESSED: N_("An analyst is checking this address."),
    ReporterStatus.ACTION_TAKEN: N_(
        "We have asked for the material to be removed: through the hosting company, "
        "a partner hotline or the police."
    ),
    ReporterStatus.REMOVED: N_("The material at this address has been removed."),
    ReporterStatus.CLOSED_WITHOUT_ACTION: N_(
        "We finished with this address without asking for a removal (for example, "
        "nothing illegal was there any more, or it is not something we can act on)."
    ),
}

# Handed on for removal: waiting for the notice run, or for someone to remove it.
_ACTION_TAKEN = RULES[Action.SEND_NOTICE].sources | RULES[Action.CONFIRM_TAKEDOWN].sources
# Can be taken, not yet assessed.
_RECEIVED = RULES[Action.ASSIGN].sources - RULES[Action.ASSESS].sources

BY_STATE: dict[Status, ReporterStatus] = {
    state: ReporterStatus.RECEIVED
    if state in _RECEIVED
    else ReporterStatus.ACTION_TAKEN
    if state in _ACTION_TAKEN
    else ReporterStatus.BEING_ASSESSED
    for state in OPEN_STATUSES
}

BY_RESOLUTION: dict[Resolution, ReporterStatus] = {
    resolution: ReporterStatus.REMOVED
    if resolution is Resolution.TAKEDOWN_CONFIRMED
    else ReporterStatus.CLOSED_WITHOUT_ACTION
    for resolution in Resolution
    if resolution is not Resolution.DUPLICATE  # follows its original: see below
}

# How far a duplicate's chain is followed (duplicates of duplicates).
_MAX_HOPS = 5


def reporter_status(case) -> ReporterStatus:
    """What the reporter of ``case`` is told (``case`` a Case, its
    ``duplicate_of`` loaded or loadable)."""
    for _ in range(_MAX_HOPS):
        if case.status != Status.CLOSED:
            return BY_STATE[Status(case.status)]
        resolution = Resolution(case.resolution) if case.resolution else None
        if resolution is Resolution.DUPLICATE and case.duplicate_of is not None:
            case = case.duplicate_of
            continue
        if resolution is Resolution.DUPLICATE or resolution is None:
            return ReporterStatus.CLOSED_WITHOUT_ACTION
        return BY_RESOLUTION[resolution]
    return ReporterStatus.RECEIVED

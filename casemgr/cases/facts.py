"""What the state machine (:mod:`casemgr.cases.workflow`) needs to know about a
case, the records an action refers to, and how long each step may take.

Plain data and protocols, no rule: the rules are the workflow's alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from casemgr.cases.states import Status
from casemgr.domain import CaseRef, OrganisationRef, StaffRef


@dataclass(frozen=True)
class CaseFacts:
    id: int | None
    status: Status
    police_hold: bool = False
    assignee_id: int | None = None
    received_at: datetime | None = None
    hosting_country: str | None = None
    first_action_at: datetime | None = None
    # Why the case waits to be routed again (an Attention), if it does.
    attention: str | None = None
    # A removal reported by a provider or the check, not verified yet.
    removal_reported: bool = False


class Resolver(Protocol):
    def staff(self, user_id: int) -> StaffRef | None: ...
    def organisation(self, organisation_id: int) -> OrganisationRef | None: ...
    def case(self, id_or_reference: int | str) -> CaseRef | None: ...


class Durations(Protocol):
    """How long each step may take (``casemgr.settings.Timings`` is one)."""

    @property
    def assessment_due(self) -> timedelta: ...
    @property
    def forwarded_reminder(self) -> timedelta: ...
    @property
    def police_hold_review(self) -> timedelta: ...
    @property
    def removal_verify(self) -> timedelta: ...
    def takedown_due_for(self, country: str | None) -> timedelta: ...

"""The words every feature shares: staff roles, kinds of organisation, who acts.

This module imports nothing of a feature, so that auth, the directory, the
case workflow and the API can all name a role or an organisation kind
without importing one another. Domain errors live beside it in
:mod:`casemgr.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


def N_(message: str) -> str:  # noqa: N802 - the name pybabel looks for
    """Mark ``message`` for the catalogue without translating it here.

    For words defined where there is no request and no Flask (the workflow's
    labels, the statistics' names): they stay English there (the API and the
    PDFs show them so) and screens translate them where they are shown, with
    ``gettext(message)``. ``bin/translations update`` extracts them (-k N_).
    """
    return message


class Role(StrEnum):
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"  # the scheduled jobs; never a person
    # A partner hotline's installation: API only, sees only what it sent.
    PARTNER = "partner"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


# Each staff role can do everything the roles below it can.
_ROLE_RANK = {Role.ANALYST: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3, Role.SYSTEM: 0, Role.PARTNER: 0}
_OUTSIDE = frozenset({Role.SYSTEM, Role.PARTNER})
STAFF_ROLES: tuple[Role, ...] = (Role.ANALYST, Role.SUPERVISOR, Role.ADMIN)


class OrgKind(StrEnum):
    HOTLINE = "hotline"
    POLICE = "police"
    HOSTING_PROVIDER = "hosting_provider"
    # In the directory for tracing and contact only: no action is addressed to one.
    REGISTRAR = "registrar"


@dataclass(frozen=True)
class Actor:
    """Who takes an action: a staff account (its id and role) or the system.

    Every service that records who did something takes an ``Actor``; views
    build one from the signed-in user (``User.actor``), jobs pass
    :data:`SYSTEM_ACTOR`.
    """

    id: int | None
    role: Role

    def has(self, role: Role) -> bool:
        # The system and partners are outside the staff's ladder: each is only itself.
        if role in _OUTSIDE or self.role in _OUTSIDE:
            return self.role is role
        return self.role.rank >= role.rank


SYSTEM_ACTOR = Actor(id=None, role=Role.SYSTEM)


# --- what the workflow needs to know of the records an action refers to


@dataclass(frozen=True)
class StaffRef:
    id: int
    active: bool
    role: Role


@dataclass(frozen=True)
class OrganisationRef:
    id: int
    kind: OrgKind
    country: str | None


@dataclass(frozen=True)
class CaseRef:
    id: int

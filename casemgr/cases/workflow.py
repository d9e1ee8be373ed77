"""The case workflow: states, actions, who may take them and what they need.

This module is the only place that knows which action moves a case from which
state to which. It is pure Python (no Flask, no SQLAlchemy) so that the whole
table can be tested without a database. The service layer asks it for a
``Transition`` and then records it; templates and the API only ever show what
``allowed_actions`` returns.

References to other records (a user, an organisation, another case) are
looked up through a ``Resolver`` that the caller passes in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from casemgr.clock import parse_iso
from casemgr.countries import is_country_code
from casemgr.domain import Actor, CaseRef, OrganisationRef, OrgKind, Role, StaffRef
from casemgr.errors import InvalidTransition, PermissionDenied, ValidationFailed


class Status(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    ACTION_REQUIRED = "action_required"
    NOTICE_PENDING = "notice_pending"
    NOTICE_SENT = "notice_sent"
    FORWARDED = "forwarded"
    WITH_POLICE = "with_police"
    CLOSED = "closed"


OPEN_STATUSES: frozenset[Status] = frozenset(Status) - {Status.CLOSED}
# States in which the hotline waits for somebody else to remove the material.
AWAITING_REMOVAL: frozenset[Status] = frozenset(
    {Status.NOTICE_SENT, Status.FORWARDED, Status.WITH_POLICE}
)


class Resolution(StrEnum):
    TAKEDOWN_CONFIRMED = "takedown_confirmed"
    NOT_ILLEGAL = "not_illegal"
    OUT_OF_REMIT = "out_of_remit"
    DUPLICATE = "duplicate"
    CONTENT_UNAVAILABLE = "content_unavailable"


class Classification(StrEnum):
    ILLEGAL_BASELINE = "illegal_baseline"
    ILLEGAL_NATIONAL = "illegal_national"
    NOT_ILLEGAL = "not_illegal"
    OUT_OF_REMIT = "out_of_remit"


ILLEGAL: frozenset[Classification] = frozenset(
    {Classification.ILLEGAL_BASELINE, Classification.ILLEGAL_NATIONAL}
)


class MediaType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    MIXED = "mixed"
    OTHER = "other"


class SiteType(StrEnum):
    WEBSITE = "website"
    IMAGE_HOST = "image_host"
    FILE_HOST = "file_host"
    FORUM = "forum"
    SOCIAL = "social"
    BLOG = "blog"
    OTHER = "other"


class AgeGroup(StrEnum):
    INFANT_TODDLER = "infant_toddler"
    PREPUBESCENT = "prepubescent"
    PUBESCENT = "pubescent"


class Action(StrEnum):
    ASSIGN = "assign"
    ASSESS = "assess"
    MARK_DUPLICATE = "mark_duplicate"
    CLOSE_UNAVAILABLE = "close_unavailable"
    REQUEST_NOTICE = "request_notice"
    FORWARD_TO_PARTNER = "forward_to_partner"
    REFER_TO_POLICE = "refer_to_police"
    RELEASE_HOLD = "release_hold"
    CONFIRM_TAKEDOWN = "confirm_takedown"
    REOPEN = "reopen"
    SEND_NOTICE = "send_notice"  # taken by the scheduled notice run only


# --- what the state machine needs to know about a case, an actor, a reference


@dataclass(frozen=True)
class CaseFacts:
    id: int | None
    status: Status
    police_hold: bool = False
    assignee_id: int | None = None
    received_at: datetime | None = None
    hosting_country: str | None = None


class Resolver(Protocol):
    def staff(self, user_id: int) -> StaffRef | None: ...
    def organisation(self, organisation_id: int) -> OrganisationRef | None: ...
    def case(self, case_id: int) -> CaseRef | None: ...


# --- errors


# --- field parsing: each returns the clean value or raises ValueError(message)

MAX_REASON_LENGTH = 2000


def _id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ValueError("must be a whole number")
    if not 0 < number < 2**63:
        raise ValueError("must be a positive number")
    return number


def _country(value: Any) -> str:
    if not isinstance(value, str) or not is_country_code(value.strip().upper()):
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, e.g. KH")
    return value.strip().upper()


def _ip(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be an IPv4 or IPv6 address")
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address") from None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "on", "1"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "no", "off", "0", ""}:
        return False
    raise ValueError("must be true or false")


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        from casemgr.clock import as_utc

        return as_utc(value)
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date and time")
    try:
        return parse_iso(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date and time, e.g. 2026-11-28T09:30:00Z") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    text = value.strip()
    if len(text) > MAX_REASON_LENGTH:
        raise ValueError(f"must be at most {MAX_REASON_LENGTH} characters")
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text):
        raise ValueError("must not contain control characters")
    return text


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "id": _id,
    "country": _country,
    "ip": _ip,
    "bool": _bool,
    "datetime": _datetime,
    "text": _text,
}


@dataclass(frozen=True)
class FieldSpec:
    """One field an action takes. ``kind`` and ``choices`` let forms and the API
    document be generated from this table instead of repeating it."""

    name: str
    kind: str  # id | choice | country | ip | bool | datetime | text
    required: bool = True
    # A field needed only when the predicate over the other clean values holds.
    required_if: Callable[[dict[str, Any]], bool] | None = None
    label: str = ""
    choices: tuple[str, ...] = ()
    # For ids: what they point at ("staff", "case", or an OrgKind value).
    refers_to: str | None = None
    # Required only in some cases (e.g. details of illegal material): explained here.
    required_when: str = ""

    def parse(self, value: Any) -> Any:
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"must be one of: {', '.join(self.choices)}")
            return value
        return _PARSERS[self.kind](value)

    def is_required(self, values: dict[str, Any]) -> bool:
        if self.required_if is not None:
            return self.required_if(values)
        return self.required


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


_ILLEGAL_ONLY = "the classification is illegal_baseline or illegal_national"


def _is_illegal(values: dict[str, Any]) -> bool:
    return values.get("classification") in ILLEGAL


# --- the table


@dataclass(frozen=True)
class ActionRule:
    action: Action
    sources: frozenset[Status]
    role: Role
    fields: tuple[FieldSpec, ...] = ()
    # Extra conditions on the case beyond its state (e.g. "no police hold").
    case_guard: Callable[[CaseFacts], bool] | None = None
    # Who among those with the role may take it (e.g. "the assignee").
    actor_guard: Callable[[CaseFacts, Actor], str | None] | None = None
    label: str = ""
    description: str = field(default="", compare=False)

    def available_for(self, case: CaseFacts) -> bool:
        return case.status in self.sources and (self.case_guard is None or self.case_guard(case))


def _assignee_or_supervisor(case: CaseFacts, actor: Actor) -> str | None:
    if actor.has(Role.SUPERVISOR) or case.assignee_id == actor.id:
        return None
    return "only the assignee or a supervisor can assess this case"


def _unassigned_or_supervisor(case: CaseFacts, actor: Actor) -> str | None:
    if actor.has(Role.SUPERVISOR) or case.assignee_id in (None, actor.id):
        return None
    return "the case is assigned to a colleague; only a supervisor can reassign it"


def _no_hold(case: CaseFacts) -> bool:
    return not (case.status is Status.WITH_POLICE and case.police_hold)


def _has_hold(case: CaseFacts) -> bool:
    return case.police_hold


RULES: dict[Action, ActionRule] = {
    rule.action: rule
    for rule in (
        ActionRule(
            Action.ASSIGN,
            frozenset({Status.NEW, Status.TRIAGE}),
            Role.ANALYST,
            (FieldSpec("assignee_id", "id", required=False, label="Assignee", refers_to="staff"),),
            actor_guard=_unassigned_or_supervisor,
            label="Assign",
            description="Take the case, or (supervisors) give it to a colleague.",
        ),
        ActionRule(
            Action.ASSESS,
            frozenset({Status.TRIAGE}),
            Role.ANALYST,
            (
                FieldSpec(
                    "classification",
                    "choice",
                    label="Classification",
                    choices=_choices(Classification),
                ),
                FieldSpec(
                    "media_type",
                    "choice",
                    required_if=_is_illegal,
                    label="Media type",
                    choices=_choices(MediaType),
                    required_when=_ILLEGAL_ONLY,
                ),
                FieldSpec(
                    "site_type",
                    "choice",
                    required_if=_is_illegal,
                    label="Site type",
                    choices=_choices(SiteType),
                    required_when=_ILLEGAL_ONLY,
                ),
                FieldSpec(
                    "hosting_country",
                    "country",
                    required_if=_is_illegal,
                    label="Hosting country",
                    required_when=_ILLEGAL_ONLY,
                ),
                FieldSpec(
                    "age_group",
                    "choice",
                    required=False,
                    label="Age group",
                    choices=_choices(AgeGroup),
                ),
                FieldSpec("hosting_ip", "ip", required=False, label="Hosting IP"),
            ),
            actor_guard=_assignee_or_supervisor,
            label="Assess",
            description="Record the classification; legal or out-of-remit closes the case.",
        ),
        ActionRule(
            Action.MARK_DUPLICATE,
            frozenset({Status.NEW, Status.TRIAGE}),
            Role.ANALYST,
            (FieldSpec("duplicate_of", "id", label="Duplicate of (case id)", refers_to="case"),),
            label="Mark as duplicate",
        ),
        ActionRule(
            Action.CLOSE_UNAVAILABLE,
            frozenset({Status.TRIAGE, Status.ACTION_REQUIRED}),
            Role.ANALYST,
            label="Close: content unavailable",
        ),
        ActionRule(
            Action.REQUEST_NOTICE,
            frozenset({Status.ACTION_REQUIRED, Status.WITH_POLICE}),
            Role.ANALYST,
            (
                FieldSpec(
                    "provider_id",
                    "id",
                    label="Hosting provider",
                    refers_to=OrgKind.HOSTING_PROVIDER,
                ),
            ),
            case_guard=_no_hold,
            label="Send notice to hosting provider",
            description="Queue a takedown notice for the next scheduled notice run.",
        ),
        ActionRule(
            Action.FORWARD_TO_PARTNER,
            frozenset({Status.ACTION_REQUIRED}),
            Role.ANALYST,
            (
                FieldSpec("partner_id", "id", label="Partner hotline", refers_to=OrgKind.HOTLINE),
                FieldSpec(
                    "reason",
                    "text",
                    required=False,
                    label="Reason",
                    required_when="the partner's country is not the hosting country",
                ),
            ),
            label="Forward to partner hotline",
        ),
        ActionRule(
            Action.REFER_TO_POLICE,
            frozenset(
                {
                    Status.ACTION_REQUIRED,
                    Status.NOTICE_PENDING,
                    Status.NOTICE_SENT,
                    Status.FORWARDED,
                }
            ),
            Role.ANALYST,
            (
                FieldSpec("police_id", "id", label="Police", refers_to=OrgKind.POLICE),
                FieldSpec(
                    "hold", "bool", required=False, label="Police asked to hold the takedown"
                ),
            ),
            label="Refer to police",
        ),
        ActionRule(
            Action.RELEASE_HOLD,
            frozenset({Status.WITH_POLICE}),
            Role.SUPERVISOR,
            (FieldSpec("reason", "text", label="Reason"),),
            case_guard=_has_hold,
            label="Release police hold",
        ),
        ActionRule(
            Action.CONFIRM_TAKEDOWN,
            frozenset({Status.NOTICE_SENT, Status.FORWARDED, Status.WITH_POLICE}),
            Role.ANALYST,
            (FieldSpec("removed_at", "datetime", label="Removed at (UTC)"),),
            label="Confirm takedown",
        ),
        ActionRule(
            Action.REOPEN,
            frozenset({Status.CLOSED}),
            Role.SUPERVISOR,
            (FieldSpec("reason", "text", label="Reason"),),
            label="Reopen",
        ),
        ActionRule(
            Action.SEND_NOTICE,
            frozenset({Status.NOTICE_PENDING}),
            Role.SYSTEM,
            label="Notice sent (scheduled run)",
        ),
    )
}

# Actions people take; SEND_NOTICE belongs to the notice run.
STAFF_ACTIONS: tuple[Action, ...] = tuple(a for a in Action if RULES[a].role is not Role.SYSTEM)


@dataclass(frozen=True)
class Transition:
    """An action the state machine has accepted, ready to be recorded."""

    action: Action
    from_status: Status
    to_status: Status
    resolution: Resolution | None
    values: dict[str, Any]


def allowed_actions(case: CaseFacts, actor: Actor) -> list[str]:
    """The actions ``actor`` may take on ``case`` now, in table order."""
    return [
        rule.action.value
        for rule in RULES.values()
        if rule.available_for(case)
        and actor.has(rule.role)
        and (rule.actor_guard is None or rule.actor_guard(case, actor) is None)
    ]


def plan(
    action: str,
    case: CaseFacts,
    actor: Actor,
    raw: Mapping[str, Any],
    *,
    now: datetime,
    resolver: Resolver,
) -> Transition:
    """Check ``action`` on ``case`` by ``actor`` with fields ``raw``.

    Returns the transition to record; raises InvalidTransition (unknown action
    or wrong state), PermissionDenied (the actor's role or relation to the
    case) or ValidationFailed (fields, keyed by field name).
    """
    try:
        rule = RULES[Action(action)]
    except ValueError:
        raise _invalid(action, case, actor) from None
    if not rule.available_for(case):
        raise _invalid(action, case, actor)
    if not actor.has(rule.role):
        raise PermissionDenied(f"'{action}' needs the {rule.role} role")
    if rule.actor_guard is not None and (refusal := rule.actor_guard(case, actor)):
        raise PermissionDenied(refusal)

    values, errors = _parse_fields(rule, raw)
    if not errors:
        _check_references(rule.action, case, actor, values, errors, resolver, now)
    if errors:
        raise ValidationFailed(errors)
    to_status, resolution = _target(rule.action, case, values)
    return Transition(rule.action, case.status, to_status, resolution, values)


def _invalid(action: str, case: CaseFacts, actor: Actor) -> InvalidTransition:
    known = action in Action.__members__.values()
    return InvalidTransition(action, case.status, allowed_actions(case, actor), known=known)


def _parse_fields(rule: ActionRule, raw: Mapping[str, Any]) -> tuple[dict, dict]:
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for spec in rule.fields:
        value = raw.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            values[spec.name] = spec.parse(value)
        except ValueError as exc:
            errors[spec.name] = [str(exc)]
    for spec in rule.fields:
        if spec.name not in values and spec.name not in errors and spec.is_required(values):
            errors[spec.name] = ["is required"]
    if values.get("classification") is not None and not _is_illegal(values):
        # Details of the material only make sense for illegal material.
        for name in ("media_type", "site_type", "hosting_country", "age_group", "hosting_ip"):
            values.pop(name, None)
    return values, errors


def _check_references(
    action: Action,
    case: CaseFacts,
    actor: Actor,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    resolver: Resolver,
    now: datetime,
) -> None:
    if action is Action.ASSIGN:
        assignee_id = values.setdefault("assignee_id", actor.id)
        if assignee_id != actor.id and not actor.has(Role.SUPERVISOR):
            errors["assignee_id"] = ["only a supervisor can give a case to someone else"]
            return
        staff = resolver.staff(assignee_id) if assignee_id is not None else None
        if staff is None or not staff.active or staff.role is Role.SYSTEM:
            errors["assignee_id"] = ["must be an active staff member"]
    elif action is Action.MARK_DUPLICATE:
        if values["duplicate_of"] == case.id:
            errors["duplicate_of"] = ["a case cannot be a duplicate of itself"]
        elif resolver.case(values["duplicate_of"]) is None:
            errors["duplicate_of"] = ["no case with this id"]
    elif action in _ORGANISATION_FIELDS:
        name, kind = _ORGANISATION_FIELDS[action]
        organisation = resolver.organisation(values[name])
        if organisation is None or organisation.kind is not kind:
            errors[name] = [f"must be the id of an organisation of kind {kind}"]
        elif (
            action is Action.FORWARD_TO_PARTNER
            and organisation.country != case.hosting_country
            and not values.get("reason")
        ):
            errors["reason"] = [
                "is required when the partner's country differs from the hosting country"
            ]
    elif action is Action.CONFIRM_TAKEDOWN:
        removed_at = values["removed_at"]
        if removed_at > now:
            errors["removed_at"] = ["must not be in the future"]
        elif case.received_at is not None and removed_at < case.received_at:
            errors["removed_at"] = ["must not be before the report was received"]


_ORGANISATION_FIELDS: dict[Action, tuple[str, OrgKind]] = {
    Action.REQUEST_NOTICE: ("provider_id", OrgKind.HOSTING_PROVIDER),
    Action.FORWARD_TO_PARTNER: ("partner_id", OrgKind.HOTLINE),
    Action.REFER_TO_POLICE: ("police_id", OrgKind.POLICE),
}


def _target(
    action: Action, case: CaseFacts, values: dict[str, Any]
) -> tuple[Status, Resolution | None]:
    match action:
        case Action.ASSIGN | Action.REOPEN:
            return Status.TRIAGE, None
        case Action.ASSESS:
            if values["classification"] in ILLEGAL:
                return Status.ACTION_REQUIRED, None
            return Status.CLOSED, Resolution(values["classification"])
        case Action.MARK_DUPLICATE:
            return Status.CLOSED, Resolution.DUPLICATE
        case Action.CLOSE_UNAVAILABLE:
            return Status.CLOSED, Resolution.CONTENT_UNAVAILABLE
        case Action.REQUEST_NOTICE:
            return Status.NOTICE_PENDING, None
        case Action.FORWARD_TO_PARTNER:
            return Status.FORWARDED, None
        case Action.REFER_TO_POLICE | Action.RELEASE_HOLD:
            return Status.WITH_POLICE, None
        case Action.CONFIRM_TAKEDOWN:
            return Status.CLOSED, Resolution.TAKEDOWN_CONFIRMED
        case Action.SEND_NOTICE:
            return Status.NOTICE_SENT, None
    raise AssertionError(f"no target for {action}")  # pragma: no cover


def initial_state(has_open_duplicate: bool) -> tuple[Status, Resolution | None]:
    """Where a newly received URL starts.

    A URL that already has an open case is not worked twice: its new case is
    closed at once as a duplicate of the open one.
    """
    if has_open_duplicate:
        return Status.CLOSED, Resolution.DUPLICATE
    return Status.NEW, None

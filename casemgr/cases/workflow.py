"""The case workflow: which action moves a case from which state to which, who
may take it, what it needs and what it writes.

The only place that knows which action moves a case from which state to
which; pure Python (no Flask, no SQLAlchemy), tested without a database. The
service layer asks it for a ``Transition`` (the new state, and what to write:
data, clocks, deadlines) and records it; templates and the API only ever show
what ``allowed_actions`` returns.

What it is told (the case's facts, a ``Resolver`` for the records an action
names, the durations) is in :mod:`casemgr.cases.facts`; the names of states,
resolutions and actions in :mod:`casemgr.cases.states`; who among the staff
may act on a case (its assignee, a supervisor) in :mod:`casemgr.cases.guards`.
Labels are English, marked ``N_``; screens translate them (casemgr/cases/labels.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

# What the state machine is told (re-exported: callers import CaseFacts from here).
from casemgr.cases.facts import CaseFacts, Durations, Resolver
from casemgr.cases.fields import (
    ILLEGAL,
    MATERIAL_DETAILS,
    AgeGroup,
    Classification,
    FieldSpec,
    MediaType,
    SiteType,
    choices_of,
    illegal_only,
    is_illegal,
    parse_fields,
)
from casemgr.cases.guards import (
    assignee_or_supervisor,
    holder_or_supervisor,
    unassigned_or_supervisor,
)
from casemgr.cases.states import (
    AWAITING_REMOVAL,
    OPEN_STATUSES,
    Action,
    Attention,
    RemovalSource,
    Resolution,
    Status,
)
from casemgr.domain import N_, Actor, OrgKind, Role
from casemgr.errors import InvalidTransition, PermissionDenied, ValidationFailed


@dataclass(frozen=True)
class ActionRule:
    action: Action
    sources: frozenset[Status]
    role: Role
    fields: tuple[FieldSpec, ...] = ()
    # Extra conditions on the case beyond its state (e.g. "no police hold").
    case_guard: Callable[[CaseFacts], bool] | None = None
    # Who among those with the role may take it (casemgr/cases/guards.py).
    actor_guard: Callable[[CaseFacts, Actor], str | None] | None = None
    label: str = ""
    description: str = field(default="", compare=False)

    def available_for(self, case: CaseFacts) -> bool:
        return case.status in self.sources and (self.case_guard is None or self.case_guard(case))


def _no_hold(case: CaseFacts) -> bool:
    return not (case.status is Status.WITH_POLICE and case.police_hold)


def _has_hold(case: CaseFacts) -> bool:
    return case.police_hold


# When the material went, and who said so.
_REMOVED_AT = FieldSpec("removed_at", "datetime", label=N_("Removed at"))
_SOURCE = FieldSpec("source", "choice", label=N_("Reported by"), choices=choices_of(RemovalSource))

RULES: dict[Action, ActionRule] = {
    rule.action: rule
    for rule in (
        ActionRule(
            Action.ASSIGN,
            frozenset({Status.NEW, Status.TRIAGE}),
            Role.ANALYST,
            (
                FieldSpec(
                    "assignee_id", "id", required=False, label=N_("Assignee"), refers_to="staff"
                ),
            ),
            actor_guard=unassigned_or_supervisor,
            label=N_("Assign"),
            description=N_("Take the case, or (supervisors) give it to a colleague."),
        ),
        ActionRule(
            Action.ASSESS,
            frozenset({Status.TRIAGE}),
            Role.ANALYST,
            (
                FieldSpec(
                    "classification",
                    "choice",
                    label=N_("Classification"),
                    choices=choices_of(Classification),
                ),
                illegal_only("media_type", "choice", N_("Media type"), choices_of(MediaType)),
                illegal_only("site_type", "choice", N_("Site type"), choices_of(SiteType)),
                illegal_only("hosting_country", "country", N_("Hosting country")),
                FieldSpec(
                    "age_group",
                    "choice",
                    required=False,
                    label=N_("Age group"),
                    choices=choices_of(AgeGroup),
                ),
                FieldSpec("hosting_ip", "ip", required=False, label=N_("Hosting IP")),
            ),
            actor_guard=assignee_or_supervisor,
            label=N_("Assess"),
            description=N_("Record the classification; legal or out-of-remit closes the case."),
        ),
        ActionRule(
            Action.MARK_DUPLICATE,
            frozenset({Status.NEW, Status.TRIAGE}),
            Role.ANALYST,
            (
                FieldSpec(
                    "duplicate_of",
                    "id",
                    label=N_("Duplicate of (case id or reference)"),
                    refers_to="case",
                ),
            ),
            actor_guard=holder_or_supervisor,
            label=N_("Mark as duplicate"),
        ),
        ActionRule(
            Action.CLOSE_UNAVAILABLE,
            frozenset({Status.TRIAGE, Status.ACTION_REQUIRED}),
            Role.ANALYST,
            actor_guard=holder_or_supervisor,
            label=N_("Close: content unavailable"),
        ),
        ActionRule(
            Action.REQUEST_NOTICE,
            frozenset({Status.ACTION_REQUIRED, Status.WITH_POLICE}),
            Role.ANALYST,
            (
                FieldSpec(
                    "provider_id",
                    "id",
                    label=N_("Hosting provider"),
                    refers_to=OrgKind.HOSTING_PROVIDER,
                ),
            ),
            case_guard=_no_hold,
            label=N_("Request takedown notice"),
            description=N_("Queue a takedown notice for the next scheduled notice run."),
        ),
        ActionRule(
            Action.FORWARD_TO_PARTNER,
            frozenset({Status.ACTION_REQUIRED}),
            Role.ANALYST,
            (
                FieldSpec(
                    "partner_id", "id", label=N_("Partner hotline"), refers_to=OrgKind.HOTLINE
                ),
                FieldSpec(
                    "reason",
                    "text",
                    required=False,
                    label=N_("Reason"),
                    required_when="the partner's country is not the hosting country",
                ),
            ),
            label=N_("Forward to partner hotline"),
        ),
        ActionRule(
            Action.REFER_TO_POLICE,
            # From the assessment on, until the police have it.
            OPEN_STATUSES - {Status.NEW, Status.TRIAGE, Status.WITH_POLICE},
            Role.ANALYST,
            (
                FieldSpec("police_id", "id", label=N_("Police"), refers_to=OrgKind.POLICE),
                FieldSpec(
                    "hold", "bool", required=False, label=N_("Police asked to hold the takedown")
                ),
            ),
            label=N_("Refer to police"),
        ),
        ActionRule(
            Action.RELEASE_HOLD,
            frozenset({Status.WITH_POLICE}),
            Role.SUPERVISOR,
            (FieldSpec("reason", "text", label=N_("Reason")),),
            case_guard=_has_hold,
            label=N_("Release police hold"),
        ),
        ActionRule(
            Action.CONFIRM_TAKEDOWN,
            frozenset({Status.NOTICE_SENT, Status.FORWARDED, Status.WITH_POLICE}),
            Role.ANALYST,
            (_REMOVED_AT,),
            label=N_("Confirm takedown"),
        ),
        ActionRule(
            Action.REOPEN,
            frozenset({Status.CLOSED}),
            Role.SUPERVISOR,
            (FieldSpec("reason", "text", label=N_("Reason")),),
            label=N_("Reopen"),
        ),
        ActionRule(
            Action.SEND_NOTICE,
            frozenset({Status.NOTICE_PENDING}),
            Role.SYSTEM,
            label=N_("Notice sent (scheduled run)"),
        ),
        # From outside (a provider's answer, the removal check, a partner), taken
        # by the system; an analyst verifies a reported removal (confirm_takedown).
        ActionRule(
            Action.REPORT_REMOVAL,
            AWAITING_REMOVAL,
            Role.SYSTEM,
            (_REMOVED_AT, _SOURCE),
            label=N_("Removal reported, to verify"),
        ),
        ActionRule(
            Action.ACCEPT_REPORTED_REMOVAL,
            AWAITING_REMOVAL,
            Role.SYSTEM,
            (_REMOVED_AT, replace(_SOURCE, required=False)),  # the provider when not said
            label=N_("Takedown confirmed by the provider"),
            description=N_("The provider is trusted: its word closes the case."),
        ),
        ActionRule(
            Action.DECLINE_NOTICE,
            frozenset({Status.NOTICE_SENT, Status.FORWARDED}),
            Role.SYSTEM,
            (FieldSpec("answer", "choice", label=N_("Answer"), choices=choices_of(Attention)),),
            label=N_("Provider declined the notice"),
            description=N_(
                "Not hosted there, cannot be removed, or the partner closed it: route again."
            ),
        ),
    )
}

# Actions people take; SEND_NOTICE belongs to the notice run.
STAFF_ACTIONS: tuple[Action, ...] = tuple(a for a in Action if RULES[a].role is not Role.SYSTEM)

# The actions that name an organisation, read from the table: the field that
# names it and the kind it must be (provider_id of a hosting provider, ...).
ORGANISATION_FIELDS: dict[Action, tuple[str, OrgKind]] = {
    rule.action: (spec.name, OrgKind(spec.refers_to))
    for rule in RULES.values()
    for spec in rule.fields
    if spec.refers_to in set(OrgKind)
}


@dataclass(frozen=True)
class Transition:
    """An action the state machine has accepted, ready to be recorded.

    ``values`` are the action's clean fields, as its event records them;
    ``changes`` is what to write on the case besides its state (attribute
    name to value): the data, who, the clocks and the deadlines.
    """

    action: Action
    from_status: Status
    to_status: Status
    resolution: Resolution | None
    values: dict[str, Any]
    changes: dict[str, Any]


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
    timings: Durations,
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

    values, errors = parse_fields(rule.fields, raw)
    if values.get("classification") is not None and not is_illegal(values):
        values = {n: v for n, v in values.items() if n not in MATERIAL_DETAILS}  # illegal only
    if not errors:
        _check_references(rule.action, case, actor, values, errors, resolver, now)
    if errors:
        raise ValidationFailed(errors)
    to_status, resolution, changes = _outcome(rule.action, case, actor, values, now, timings)
    return Transition(rule.action, case.status, to_status, resolution, values, changes)


def _invalid(action: str, case: CaseFacts, actor: Actor) -> InvalidTransition:
    known = action in Action.__members__.values()
    return InvalidTransition(action, case.status, allowed_actions(case, actor), known=known)


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
        original = resolver.case(values["duplicate_of"])
        if original is None:
            errors["duplicate_of"] = ["no case with this id or reference"]
        elif original.id == case.id:
            errors["duplicate_of"] = ["a case cannot be a duplicate of itself"]
        else:
            values["duplicate_of"] = original.id  # the event records the id, however named
    elif action in ORGANISATION_FIELDS:
        name, kind = ORGANISATION_FIELDS[action]
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
    elif action in _REMOVAL_ACTIONS:
        removed_at = values["removed_at"]
        if removed_at > now:
            errors["removed_at"] = ["must not be in the future"]
        elif case.received_at is not None and removed_at < case.received_at:
            errors["removed_at"] = ["must not be before the report was received"]


def _outcome(
    action: Action,
    case: CaseFacts,
    actor: Actor,
    values: dict[str, Any],
    now: datetime,
    timings: Durations,
) -> tuple[Status, Resolution | None, dict[str, Any]]:
    """Where ``action`` takes the case, how it is resolved if it closes, and what the
    action writes on it besides its state: the data, who, the clocks, the deadlines."""
    resolution: Resolution | None = None
    changes: dict[str, Any] = {}
    match action:
        case Action.ASSIGN:
            to = Status.TRIAGE
            changes = {"assignee_id": values["assignee_id"], "assigned_at": now}
        case Action.ASSESS:
            to = Status.ACTION_REQUIRED
            if values["classification"] not in ILLEGAL:
                to, resolution = Status.CLOSED, Resolution(values["classification"])
            changes = {name: values.get(name) for name in ("classification", *MATERIAL_DETAILS)}
            changes |= {"assessed_at": now, "assessed_by_id": actor.id, "due_at": None}
        case Action.MARK_DUPLICATE:
            to, resolution = Status.CLOSED, Resolution.DUPLICATE
            changes = {"duplicate_of_id": values["duplicate_of"]}
        case Action.CLOSE_UNAVAILABLE:
            to, resolution = Status.CLOSED, Resolution.CONTENT_UNAVAILABLE
        case Action.REQUEST_NOTICE:
            to = Status.NOTICE_PENDING
            changes = {"provider_id": values["provider_id"], "notice_requested_at": now}
            changes |= {"due_at": None, "next_reminder_at": None}
        case Action.FORWARD_TO_PARTNER:
            to = Status.FORWARDED
            changes = {"partner_id": values["partner_id"], "forwarded_at": now}
            changes |= _chase(now + timings.forwarded_reminder)
        case Action.REFER_TO_POLICE:
            to, hold = Status.WITH_POLICE, values.get("hold", False)
            changes = {"police_id": values["police_id"], "referred_at": now, "police_hold": hold}
            if hold:
                # No takedown clock while the police hold it; a supervisor reviews the hold.
                review = now + timings.police_hold_review
                changes |= {"hold_since": now, "due_at": None, "next_reminder_at": review}
                changes["reminder_count"] = 0
            else:
                changes |= _chase(now + timings.takedown_due_for(case.hosting_country))
        case Action.RELEASE_HOLD:
            to = Status.WITH_POLICE
            changes = {"police_hold": False, "hold_since": None}
            changes |= _chase(now + timings.takedown_due_for(case.hosting_country))
        case Action.CONFIRM_TAKEDOWN:
            to, resolution = Status.CLOSED, Resolution.TAKEDOWN_CONFIRMED
            changes = {"removed_at": values["removed_at"]}
        case Action.REOPEN:
            to = Status.TRIAGE
            changes = {"resolution": None, "closed_at": None, "removed_at": None}
            changes["due_at"] = now + timings.assessment_due
        case Action.SEND_NOTICE:
            to = Status.NOTICE_SENT
            changes = {"notice_sent_at": now}
            changes |= _chase(now + timings.takedown_due_for(case.hosting_country))
        case Action.REPORT_REMOVAL:
            # Reminders stop; an analyst verifies by the new deadline.
            to = case.status
            changes = {"removal_reported_at": values["removed_at"]}
            changes |= {"removal_reported_by": values["source"], "next_reminder_at": None}
            changes["due_at"] = now + timings.removal_verify
        case Action.ACCEPT_REPORTED_REMOVAL:
            to, resolution = Status.CLOSED, Resolution.TAKEDOWN_CONFIRMED
            removed_at = values["removed_at"]
            source = values.get("source") or RemovalSource.PROVIDER.value
            changes = {"removed_at": removed_at, "removal_reported_at": removed_at}
            changes["removal_reported_by"] = source
        case Action.DECLINE_NOTICE:
            to = Status.ACTION_REQUIRED
            changes = {"attention": values["answer"], "due_at": None, "next_reminder_at": None}
            changes["reminder_count"] = 0
    if case.attention is not None and action is not Action.DECLINE_NOTICE:
        changes["attention"] = None  # whatever the analyst does next is the re-routing
    if case.removal_reported and action not in _KEEPS_REPORTED_REMOVAL:
        changes |= {"removal_reported_at": None, "removal_reported_by": None}
    if action in _FIRST_ACTIONS and case.first_action_at is None:
        changes["first_action_at"] = now
    if to is Status.CLOSED:
        changes |= {"resolution": resolution, "closed_at": now, "due_at": None}
        changes["next_reminder_at"] = None
    return to, resolution, changes


# The actions that hand the material on for removal: the first of them is the
# hotline's first action on the case.
_FIRST_ACTIONS = {Action.REQUEST_NOTICE, Action.FORWARD_TO_PARTNER, Action.REFER_TO_POLICE}
# The actions that record a time of removal: never in the future, never before the report.
_REMOVAL_ACTIONS = {Action.CONFIRM_TAKEDOWN, Action.REPORT_REMOVAL, Action.ACCEPT_REPORTED_REMOVAL}
# A reported removal stays on the case until the case is routed again or reopened.
_KEEPS_REPORTED_REMOVAL = _REMOVAL_ACTIONS | {Action.ASSIGN, Action.SEND_NOTICE}


def _chase(due: datetime) -> dict[str, Any]:
    """Start the removal clock: due then, first reminder then."""
    return {"due_at": due, "next_reminder_at": due, "reminder_count": 0}


def initial_state(has_open_duplicate: bool) -> tuple[Status, Resolution | None]:
    """Where a newly received URL starts.

    A URL that already has an open case is not worked twice: its new case is
    closed at once as a duplicate of the open one.
    """
    if has_open_duplicate:
        return Status.CLOSED, Resolution.DUPLICATE
    return Status.NEW, None
